"""python -m portal web: the portal's one process (no database, no consumers, no relay)."""

from __future__ import annotations

import argparse

import uvicorn

from portal.config import PortalSettings
from qosym_chassis.telemetry import uvicorn_log_config


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m portal", description="Qosym web portal")
    parser.add_argument("process", choices=["web"])
    parser.parse_args()
    settings = PortalSettings()
    uvicorn.run(
        "portal.entrypoints.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_config=uvicorn_log_config(),
        access_log=False,
    )


main()
