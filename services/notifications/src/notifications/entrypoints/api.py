"""Notifications' HTTP application."""

from __future__ import annotations

import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from notifications.bootstrap import Notifications, bootstrap
from notifications.config import NotificationsSettings
from notifications.entrypoints import inbox_routes, preferences_routes, sms_gateway_routes, stream_routes
from qosym_chassis.api import create_service_app
from qosym_chassis.context import build_context


def create_app(settings: NotificationsSettings | None = None) -> FastAPI:
    settings = settings or NotificationsSettings()
    context = build_context(settings, "api")
    app = create_service_app(
        settings,
        title="Qosym notifications",
        description="Each person's inbox, delivery channels, reminders and the real-time status stream.",
        routers=[inbox_routes.router, stream_routes.router, preferences_routes.router]
        + ([sms_gateway_routes.router] if settings.dev_mode else []),
        context=context,
    )
    notifications = bootstrap(settings, context)
    app.state.notifications = notifications
    _run_hub_with(app, notifications)
    return app


def _run_hub_with(app: FastAPI, notifications: Notifications) -> None:
    """The LISTEN hub lives as long as the app; a shutdown signal ends the open streams first.

    The server waits for open responses before it shuts the app down, and a stream never ends by itself.
    """
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
        async with inner(app) as state:
            notifications.deps.live.start()
            restore = _end_streams_on_shutdown(notifications)
            try:
                yield state
            finally:
                restore()
                await notifications.deps.live.stop()

    app.router.lifespan_context = lifespan


def _end_streams_on_shutdown(notifications: Notifications) -> Callable[[], None]:
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    import asyncio

    loop = asyncio.get_running_loop()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def handler(sig: int, frame: Any) -> None:
        loop.call_soon_threadsafe(notifications.deps.live.close_streams)
        chained = previous[signal.Signals(sig)]
        if callable(chained):
            chained(sig, frame)

    for sig in previous:
        signal.signal(sig, handler)

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore
