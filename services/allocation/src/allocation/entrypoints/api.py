"""Allocation's HTTP application."""

from __future__ import annotations

from fastapi import FastAPI

from allocation.bootstrap import bootstrap
from allocation.config import AllocationSettings
from allocation.entrypoints import (
    allocation_run_routes,
    application_routes,
    child_routes,
    region_routes,
    round_routes,
    voucher_routes,
)
from qosym_chassis.api import create_service_app
from qosym_chassis.context import build_context


def create_app(settings: AllocationSettings | None = None) -> FastAPI:
    settings = settings or AllocationSettings()
    context = build_context(settings, "api")
    app = create_service_app(
        settings,
        title="Qosym allocation",
        description="Regions and policy, rounds, applications, ranking, lottery, vouchers and waitlists.",
        routers=[
            region_routes.router,
            child_routes.router,
            round_routes.router,
            allocation_run_routes.router,
            application_routes.router,
            voucher_routes.router,
        ],
        context=context,
    )
    app.state.allocation = bootstrap(settings, context)
    return app
