"""Composition root of catalog."""

from __future__ import annotations

from dataclasses import dataclass

from catalog.config import CatalogSettings
from qosym_chassis.context import ServiceContext


@dataclass(frozen=True)
class Catalog:
    settings: CatalogSettings
    context: ServiceContext


def bootstrap(settings: CatalogSettings, context: ServiceContext) -> Catalog:
    return Catalog(settings=settings, context=context)
