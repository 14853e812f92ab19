"""The registry's HTTP application."""

from __future__ import annotations

from fastapi import FastAPI
from qosym_chassis.api import create_service_app
from qosym_chassis.context import build_context

from registry.bootstrap import bootstrap
from registry.config import RegistrySettings
from registry.entrypoints.routes import dev_router, router


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    settings = settings or RegistrySettings()  # type: ignore[call-arg]
    context = build_context(settings, "api")
    routers = [router, dev_router] if settings.dev_mode else [router]
    app = create_service_app(
        settings,
        title="Qosym registry",
        description="People, children and guardianship; the platform's identity provider.",
        routers=routers,
        context=context,
    )
    app.state.registry = bootstrap(settings, context)
    return app
