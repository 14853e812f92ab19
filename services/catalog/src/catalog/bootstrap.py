"""Composition root of catalog."""

from __future__ import annotations

from dataclasses import dataclass

from catalog.adapters.cache import SearchCache, namespace_of
from catalog.config import CatalogSettings
from qosym_chassis.context import ServiceContext
from qosym_chassis.keys import load_or_create_secret
from qosym_chassis.protection import IinProtector


@dataclass(frozen=True)
class Catalog:
    settings: CatalogSettings
    context: ServiceContext
    cache: SearchCache
    protector: IinProtector


def bootstrap(settings: CatalogSettings, context: ServiceContext) -> Catalog:
    return Catalog(
        settings=settings,
        context=context,
        cache=SearchCache(context.redis, namespace_of(settings.database_url), settings.search_cache_ttl_s),
        protector=IinProtector(
            encryption_key=load_or_create_secret(settings.keys_dir, "catalog-iin-encryption"),
            index_key=load_or_create_secret(settings.keys_dir, "catalog-iin-index"),
        ),
    )
