"""Composition root of attendance: the only place that builds adapters (docs/architecture.md, "Service anatomy")."""

from __future__ import annotations

from dataclasses import dataclass

from attendance.config import AttendanceSettings
from attendance.service_layer.dependencies import Dependencies
from qosym_chassis.context import ServiceContext


@dataclass(frozen=True)
class Attendance:
    settings: AttendanceSettings
    context: ServiceContext
    deps: Dependencies


def bootstrap(settings: AttendanceSettings, context: ServiceContext) -> Attendance:
    return Attendance(
        settings=settings,
        context=context,
        deps=Dependencies(sessions=context.session_factory, clock=context.clock),
    )
