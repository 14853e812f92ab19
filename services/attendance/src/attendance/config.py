"""Attendance settings (QOSYM_ environment variables)."""

from __future__ import annotations

from qosym_chassis.settings import ServiceSettings


class AttendanceSettings(ServiceSettings):
    service_name: str = "attendance"
