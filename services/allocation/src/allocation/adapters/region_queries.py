"""Read-side SQL of regions: the public listing (docs/architecture.md, "Service anatomy")."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from allocation.adapters.orm import region


def regions_query() -> Select[Any]:
    """Every region, by code."""
    return select(region.c.code, region.c.revision, region.c.config).order_by(region.c.code)
