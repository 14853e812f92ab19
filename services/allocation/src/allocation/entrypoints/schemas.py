"""HTTP models of the allocation API."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel

from allocation.domain.region import RegionConfig


class RegionOut(BaseModel):
    revision: int
    config: RegionConfig


class CategoryOut(BaseModel):
    code: str
    valid_from: date
    valid_until: date | None


class ChildOut(BaseModel):
    child_id: UUID
    birth_date: date
    sex: str
    region_code: str
    district_code: str
    registered_at: datetime
    verified_categories: list[CategoryOut] = []
