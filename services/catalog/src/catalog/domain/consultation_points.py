"""Catalog's projection of a region's consultation points, fed by allocation's RegionConfigured."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConsultationPoint:
    region_code: str
    district: str
    name: str
    address: str
    opening_days: tuple[str, ...]


def supersedes(incoming_revision: int, stored_revision: int | None) -> bool:
    """A region's points are replaced only by a strictly newer revision; older or equal ones are stale."""
    return stored_revision is None or incoming_revision > stored_revision
