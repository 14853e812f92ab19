"""``python -m SERVICE import FILE`` (qosym_chassis.bulk) and the services' other commands (``python -m registry
bootstrap-admin``) run as their own process against a test database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from qosym_cli.stack import LocalStack
from qosym_cli.tokens import keys_dir


def run_import(
    service: str, stack: LocalStack, url: str, jwks: str, folder: Path, lines: list[str], *options: str
) -> tuple[int, list[dict[str, Any]]]:
    """The exit code and the JSON answer lines of an import of ``lines`` into the database at ``url``."""
    source = folder / f"{service}-import.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = run_command(service, stack, url, jwks, folder, "import", str(source), *options)
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()]


def run_command(
    service: str, stack: LocalStack, url: str, jwks: str, folder: Path, *arguments: str, dev_mode: bool = True
) -> subprocess.CompletedProcess[str]:
    """``python -m SERVICE ARGUMENTS...`` against the database at ``url``: its exit code, stdout and stderr."""
    env = {
        "PATH": "/usr/bin:/bin",
        "QOSYM_DATABASE_URL": url,
        "QOSYM_REDIS_URL": stack.state.redis_url or "",
        "QOSYM_KAFKA_BOOTSTRAP_SERVERS": stack.state.kafka_bootstrap_servers or "",
        "QOSYM_KEYS_DIR": str(keys_dir(stack.home)),
        "QOSYM_AUDIT_HEAD_DIR": str(folder / "audit-heads"),
        "QOSYM_JWKS_URL": jwks,
        "QOSYM_DEV_MODE": "true" if dev_mode else "false",
        "QOSYM_OTEL_TRACES_FILE": str(folder / "traces.jsonl"),
    }
    command = [sys.executable, "-m", service, *arguments]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
