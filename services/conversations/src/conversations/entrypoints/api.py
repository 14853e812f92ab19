"""Conversations' HTTP application."""

from __future__ import annotations

from fastapi import FastAPI

from conversations.bootstrap import bootstrap
from conversations.config import ConversationsSettings
from conversations.entrypoints import response_time_routes, thread_routes
from qosym_chassis.api import create_service_app
from qosym_chassis.context import build_context


def create_app(settings: ConversationsSettings | None = None) -> FastAPI:
    settings = settings or ConversationsSettings()
    context = build_context(settings, "api")
    app = create_service_app(
        settings,
        title="Qosym conversations",
        description="Threads between a child's guardians and a provider or their consultation point, attached to an "
        "application, an enrolment, a timesheet month or a dispute; read receipts; response times per provider.",
        routers=[thread_routes.router, response_time_routes.router],
        context=context,
    )
    app.state.conversations = bootstrap(settings, context)
    return app
