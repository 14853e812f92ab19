"""Attendance settings (QOSYM_ environment variables)."""

from __future__ import annotations

from pydantic import Field

from qosym_chassis.settings import ServiceSettings


class AttendanceSettings(ServiceSettings):
    service_name: str = "attendance"
    deadline_sweep_interval_s: float = Field(
        default=60.0, description="how often the consumers process closes expired confirmation windows"
    )
    risk_scan_interval_s: float = Field(
        default=60.0, description="how often the consumers process runs the risk rules over this and last month"
    )
