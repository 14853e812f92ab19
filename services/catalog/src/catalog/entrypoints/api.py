"""Catalog's HTTP application."""

from __future__ import annotations

from fastapi import FastAPI

from catalog.bootstrap import bootstrap
from catalog.config import CatalogSettings
from catalog.entrypoints.catalog_routes import catalog_router
from catalog.entrypoints.routes import router
from qosym_chassis.api import create_service_app
from qosym_chassis.context import build_context


def create_app(settings: CatalogSettings | None = None) -> FastAPI:
    settings = settings or CatalogSettings()  # type: ignore[call-arg]
    context = build_context(settings, "api")
    app = create_service_app(
        settings,
        title="Qosym catalog",
        description="Providers, programmes, seats and enrolments; the consultation points of each region.",
        routers=[router, catalog_router],
        context=context,
    )
    app.state.catalog = bootstrap(settings, context)
    return app
