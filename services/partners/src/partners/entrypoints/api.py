"""Partners' HTTP application."""

from __future__ import annotations

from fastapi import FastAPI

from partners.bootstrap import bootstrap
from partners.config import PartnersSettings
from partners.entrypoints import guide_routes, webhook_routes
from qosym_chassis.api import create_service_app
from qosym_chassis.context import build_context


def create_app(settings: PartnersSettings | None = None) -> FastAPI:
    settings = settings or PartnersSettings()
    context = build_context(settings, "api")
    app = create_service_app(
        settings,
        title="Qosym partners",
        description="Webhooks for partner systems that cannot run a Kafka client: a partner's service account "
        "registers endpoints for event types of the public topics; deliveries are signed POSTs (Standard Webhooks), "
        "retried with backoff, then dead-lettered; the partner reads its delivery log and replays its dead letters.",
        routers=[webhook_routes.router, guide_routes.router],
        context=context,
    )
    app.state.partners = bootstrap(settings, context)
    return app
