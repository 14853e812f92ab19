"""Attendance's HTTP application."""

from __future__ import annotations

from fastapi import FastAPI

from attendance.bootstrap import bootstrap
from attendance.config import AttendanceSettings
from attendance.entrypoints import confirmation_routes, region_routes, risk_routes, timesheet_routes
from qosym_chassis.api import create_service_app
from qosym_chassis.context import build_context


def create_app(settings: AttendanceSettings | None = None) -> FastAPI:
    settings = settings or AttendanceSettings()
    context = build_context(settings, "api")
    app = create_service_app(
        settings,
        title="Qosym attendance",
        description="Monthly timesheets marked by providers, confirmed or disputed by guardians, resolved by "
        "operators; the region's payable rules; risk flags for operators.",
        routers=[region_routes.router, timesheet_routes.router, confirmation_routes.router, risk_routes.router],
        context=context,
    )
    app.state.attendance = bootstrap(settings, context)
    return app
