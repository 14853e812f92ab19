"""Composition root of attendance."""

from __future__ import annotations

from dataclasses import dataclass

from attendance.config import AttendanceSettings
from qosym_chassis.context import ServiceContext


@dataclass(frozen=True)
class Attendance:
    settings: AttendanceSettings
    context: ServiceContext


def bootstrap(settings: AttendanceSettings, context: ServiceContext) -> Attendance:
    return Attendance(settings=settings, context=context)
