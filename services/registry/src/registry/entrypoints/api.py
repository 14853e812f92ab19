"""The registry's HTTP application."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import FastAPI

from qosym_chassis.api import create_service_app
from qosym_chassis.context import ServiceContext, build_context
from registry.bootstrap import Registry, bootstrap
from registry.config import RegistrySettings
from registry.entrypoints.assisted_routes import assisted_router
from registry.entrypoints.category_routes import category_router
from registry.entrypoints.children_routes import children_router
from registry.entrypoints.guardianship_routes import guardianship_router
from registry.entrypoints.identity_routes import dev_router, identity_router
from registry.entrypoints.people_routes import people_router
from registry.entrypoints.provider_routes import provider_router
from registry.entrypoints.review_routes import review_router
from registry.service_layer import identity

log = logging.getLogger("registry.api")


def _bootstrap_admin(registry: Registry) -> Callable[[ServiceContext], Awaitable[None]]:
    async def hook(_: ServiceContext) -> None:
        try:
            created = await identity.bootstrap_admin(registry.deps)
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
    settings = settings or RegistrySettings()
    context = build_context(settings, "api")
    registry = bootstrap(settings, context)
    routers = [
        children_router,
        people_router,
        guardianship_router,
        category_router,
        review_router,
        assisted_router,
        provider_router,
        identity_router,
    ]
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
