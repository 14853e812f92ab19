"""Allocation's read-only view of children, fed by the registry's events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID


@dataclass(frozen=True)
class ChildView:
    child_id: UUID
    guardian_id: UUID
    birth_date: date
    sex: str
    region_code: str
    district_code: str
    registered_at: datetime
