"""Allocation's HTTP application."""

from __future__ import annotations

from fastapi import FastAPI

from allocation.bootstrap import bootstrap
from allocation.config import AllocationSettings
from allocation.entrypoints.round_routes import router as round_router
from allocation.entrypoints.routes import router
from qosym_chassis.api import create_service_app
from qosym_chassis.context import build_context


def create_app(settings: AllocationSettings | None = None) -> FastAPI:
    settings = settings or AllocationSettings()  # type: ignore[call-arg]
    context = build_context(settings, "api")
    app = create_service_app(
        settings,
        title="Qosym allocation",
        description="Regions and policy, rounds, applications, ranking, lottery, vouchers and waitlists.",
        routers=[router, round_router],
        context=context,
    )
    app.state.allocation = bootstrap(settings, context)
    return app
