"""Read-side SQL of the child projection: the staff's children listing (docs/architecture.md, "Service anatomy")."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from allocation.adapters.orm import child


def children_query(region_code: str | None, district_code: str | None = None) -> Select[Any]:
    query = select(child).order_by(child.c.registered_at, child.c.child_id)
    if region_code:
        query = query.where(child.c.region_code == region_code)
    if district_code:
        query = query.where(child.c.district_code == district_code)
    return query
