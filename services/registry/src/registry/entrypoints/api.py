"""The registry's HTTP application."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from qosym_chassis.api import create_service_app
from qosym_chassis.context import ServiceContext, build_context
from registry.bootstrap import Registry, bootstrap
from registry.config import RegistrySettings
from registry.entrypoints.identity_routes import identity_router
from registry.entrypoints.people_routes import people_router
from registry.entrypoints.routes import dev_router, router
from registry.service_layer import identity

log = logging.getLogger("registry.api")


def _bootstrap_admin(registry: Registry):  # type: ignore[no-untyped-def]
    async def hook(_: ServiceContext) -> None:
        try:
            created = await identity.bootstrap_admin(registry.context.session_factory, registry.box)
        except Exception:  # the database may not be migrated yet; never block startup for a dev nicety
            log.exception("could not create the bootstrap administrator")
            return
        if created:
            log.warning(
                "bootstrap administrator %r created: one-time password %s, TOTP secret %s (%s)",
                created.username,
                created.password,
                created.totp_secret,
                created.totp_uri,
            )

    return hook


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    settings = settings or RegistrySettings()  # type: ignore[call-arg]
    context = build_context(settings, "api")
    registry = bootstrap(settings, context)
    routers = [router, people_router, identity_router]
    if settings.dev_mode:
        routers.append(dev_router)
    app = create_service_app(
        settings,
        title="Qosym registry",
        description="People, children and guardianship; the platform's identity provider.",
        routers=routers,
        context=context,
        on_startup=[_bootstrap_admin(registry)] if settings.dev_mode else [],
    )
    app.state.registry = registry
    return app
