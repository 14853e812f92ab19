"""Catalog's HTTP application."""

from __future__ import annotations

from fastapi import FastAPI

from catalog.bootstrap import bootstrap
from catalog.config import CatalogSettings
from catalog.entrypoints import (
    attestation_routes,
    complaint_routes,
    consultation_point_routes,
    enrolment_routes,
    programme_routes,
    provider_routes,
    quality_routes,
    review_routes,
    search_routes,
    staff_routes,
)
from qosym_chassis.api import create_service_app
from qosym_chassis.context import build_context

ROUTERS = [
    consultation_point_routes.router,
    provider_routes.router,
    programme_routes.router,
    search_routes.router,
    quality_routes.router,
    enrolment_routes.router,
    staff_routes.router,
    attestation_routes.router,
    complaint_routes.router,
    review_routes.router,
]


def create_app(settings: CatalogSettings | None = None) -> FastAPI:
    settings = settings or CatalogSettings()
    context = build_context(settings, "api")
    app = create_service_app(
        settings,
        title="Qosym catalog",
        description="Providers, programmes, seats and enrolments; the consultation points of each region.",
        routers=ROUTERS,
        context=context,
    )
    app.state.catalog = bootstrap(settings, context)
    return app
