"""Payments' HTTP application."""

from __future__ import annotations

from fastapi import FastAPI

from payments.bootstrap import bootstrap
from payments.config import PaymentsSettings
from payments.entrypoints.routes import router
from qosym_chassis.api import create_service_app
from qosym_chassis.context import build_context


def create_app(settings: PaymentsSettings | None = None) -> FastAPI:
    settings = settings or PaymentsSettings()  # type: ignore[call-arg]
    context = build_context(settings, "api")
    app = create_service_app(
        settings,
        title="Qosym payments",
        description="The double-entry ledger: appropriations, voucher accounts, holds, accruals and payment batches.",
        routers=[router],
        context=context,
    )
    app.state.payments = bootstrap(settings, context)
    return app
