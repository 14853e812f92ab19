"""Notifications' HTTP application."""

from __future__ import annotations

from fastapi import FastAPI

from notifications.bootstrap import bootstrap
from notifications.config import NotificationsSettings
from notifications.entrypoints.routes import router
from notifications.entrypoints.sms_gateway import sms_gateway_router
from qosym_chassis.api import create_service_app
from qosym_chassis.context import build_context


def create_app(settings: NotificationsSettings | None = None) -> FastAPI:
    settings = settings or NotificationsSettings()  # type: ignore[call-arg]
    context = build_context(settings, "api")
    app = create_service_app(
        settings,
        title="Qosym notifications",
        description="Each person's inbox, delivery channels, reminders and the real-time status stream.",
        routers=[router, sms_gateway_router] if settings.dev_mode else [router],
        context=context,
    )
    app.state.notifications = bootstrap(settings, context)
    return app
