"""``python -m <service> migrate|api|consumers|relay``: the processes of one service."""

from __future__ import annotations

import argparse
import importlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import uvicorn

from qosym_chassis import migrations
from qosym_chassis.settings import ServiceSettings
from qosym_chassis.telemetry import uvicorn_log_config
from qosym_chassis.worker import run_consumers, run_relay


def migrations_dir(service: str) -> Path:
    package_file = importlib.import_module(service).__file__
    assert package_file is not None
    return Path(package_file).resolve().parents[2] / "migrations"


def proxy_options(settings: ServiceSettings) -> dict[str, Any]:
    """uvicorn's proxy-header options: believe X-Forwarded-* only from ``QOSYM_TRUSTED_PROXIES`` (none by default).

    uvicorn's own default trusts them from 127.0.0.1, so anything on the machine (or a proxy that passes the
    header through) could choose the client address that per-address rate limits count.
    """
    trusted = settings.trusted_proxy_list
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": ",".join(trusted) if trusted else ""}


def service_main(
    service: str,
    settings_class: type[ServiceSettings],
    app_path: str,
    consumers_module: str,
    commands: Mapping[str, str] | None = None,
) -> None:
    """``commands``: more processes of this service, each ``"module:function"`` called with the settings and the
    rest of the command line (``python -m registry import FILE``, see qosym_chassis.bulk); its result is the exit code."""
    extra = dict(commands or {})
    parser = argparse.ArgumentParser(prog=f"python -m {service}", description=f"Qosym {service} service")
    parser.add_argument("process", choices=["migrate", "api", "consumers", "relay", *extra])
    args, rest = parser.parse_known_args()
    if rest and args.process not in extra:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    os.environ.setdefault("QOSYM_SERVICE_NAME", service)
    settings = settings_class()
    if args.process in extra:
        module, _, function = extra[args.process].partition(":")
        raise SystemExit(getattr(importlib.import_module(module), function)(settings, rest))
    if args.process == "migrate":
        migrations.upgrade(
            migrations_dir(service),
            settings.migration_database_url or settings.database_url,
            app_role=settings.database_app_role,
        )
    elif args.process == "api":
        uvicorn.run(
            app_path,
            factory=True,
            host=os.environ.get("QOSYM_HOST", "127.0.0.1"),
            port=settings.port,
            workers=settings.api_workers if settings.api_workers > 1 else None,
            log_config=uvicorn_log_config(),
            access_log=False,
            **proxy_options(settings),
        )
    elif args.process == "consumers":
        run_consumers(settings, importlib.import_module(consumers_module).register)
    else:
        run_relay(settings)
