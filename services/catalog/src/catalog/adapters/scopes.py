"""A caller's :class:`~catalog.domain.reach.Reach` as SQL over a region and a district column (for listings)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, false, true

from catalog.domain.reach import Reach


def within(reach: Reach, region: Any, district: Any) -> ColumnElement[bool]:
    """The same rule as :meth:`Reach.covers`, as one condition."""
    if reach.everywhere:
        return true()
    if not reach.region:
        return false()
    if reach.district is None:
        return and_(region == reach.region)
    return and_(region == reach.region, district == reach.district)
