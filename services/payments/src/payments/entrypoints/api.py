"""Payments' HTTP application."""

from __future__ import annotations

from fastapi import FastAPI

from payments.bootstrap import bootstrap
from payments.config import PaymentsSettings
from payments.entrypoints import (
    batch_routes,
    budget_routes,
    family_budget_routes,
    provider_routes,
    reconciliation_routes,
    treasury_routes,
)
from qosym_chassis.api import create_service_app
from qosym_chassis.context import build_context


def create_app(settings: PaymentsSettings | None = None) -> FastAPI:
    settings = settings or PaymentsSettings()
    context = build_context(settings, "api")
    app = create_service_app(
        settings,
        title="Qosym payments",
        description="The double-entry ledger: appropriations, voucher accounts, holds, accruals and payment batches.",
        routers=[
            budget_routes.router,
            batch_routes.router,
            treasury_routes.router,
            provider_routes.router,
            reconciliation_routes.router,
            family_budget_routes.router,
        ],
        context=context,
    )
    app.state.payments = bootstrap(settings, context)
    return app
