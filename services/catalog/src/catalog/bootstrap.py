"""Composition root of catalog: the only place that constructs adapters (docs/architecture.md, "Service anatomy")."""

from __future__ import annotations

from dataclasses import dataclass

from catalog.adapters.cache import SearchCache, namespace_of
from catalog.config import CatalogSettings
from catalog.service_layer.dependencies import Dependencies
from qosym_chassis.context import ServiceContext
from qosym_chassis.keys import load_or_create_secret
from qosym_chassis.protection import IinProtector


@dataclass(frozen=True)
class Catalog:
    """The bootstrapped service the entrypoints receive."""

    settings: CatalogSettings
    context: ServiceContext
    deps: Dependencies


def settings_of(context: ServiceContext) -> CatalogSettings:
    if not isinstance(context.settings, CatalogSettings):
        raise TypeError("catalog runs with CatalogSettings")
    return context.settings


def bootstrap(settings: CatalogSettings, context: ServiceContext, *, with_keys: bool = True) -> Catalog:
    """``with_keys=False`` for processes that never read an IIN (the consumers): no key files are opened."""
    protector = (
        IinProtector(
            encryption_key=load_or_create_secret(settings.keys_dir, "catalog-iin-encryption"),
            index_key=load_or_create_secret(settings.keys_dir, "catalog-iin-index"),
        )
        if with_keys
        else None
    )
    deps = Dependencies(
        sessions=context.session_factory,
        clock=context.clock,
        settings=settings,
        cache=SearchCache(context.redis, namespace_of(settings.database_url), settings.search_cache_ttl_s),
        protector=protector,
    )
    return Catalog(settings=settings, context=context, deps=deps)
