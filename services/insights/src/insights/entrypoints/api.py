"""Insights' HTTP application."""

from __future__ import annotations

from fastapi import FastAPI

from insights.bootstrap import bootstrap
from insights.config import InsightsSettings
from insights.entrypoints import figures_routes, open_data_routes
from qosym_chassis.api import create_service_app
from qosym_chassis.context import build_context


def create_app(settings: InsightsSettings | None = None) -> FastAPI:
    settings = settings or InsightsSettings()
    context = build_context(settings, "api")
    app = create_service_app(
        settings,
        title="Qosym insights",
        description="Participation, demand, equity and budget figures for officials, and anonymised open data "
        "(k-anonymity with complementary suppression), built only from the event topics.",
        routers=[figures_routes.router, open_data_routes.router],
        context=context,
    )
    app.state.insights = bootstrap(settings, context)
    return app
