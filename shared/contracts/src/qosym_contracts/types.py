"""Constrained types every service and every event share, declared once.

Use these in event models, request schemas and query parameters instead of retyping a pattern:
``region_code: RegionCode``, ``period: Period``. The patterns are exported too, for places that need the
raw expression (a SQL CHECK, a path converter).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

REGION_CODE_PATTERN = r"^[a-z][a-z0-9_-]{1,63}$"
"""A region's or district's code: lower-case ASCII, starts with a letter, 2–64 characters (``astana``)."""

PERIOD_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
"""A local calendar month, ``YYYY-MM`` (``2026-11``)."""

RegionCode = Annotated[str, Field(pattern=REGION_CODE_PATTERN, max_length=64, examples=["astana"])]
"""A region's code as the region file names it."""

DistrictCode = Annotated[str, Field(pattern=REGION_CODE_PATTERN, max_length=64, examples=["esil"])]
"""A district's code within its region."""

Period = Annotated[str, Field(pattern=PERIOD_PATTERN, min_length=7, max_length=7, examples=["2026-11"])]
"""A local calendar month, ``YYYY-MM``."""

__all__ = ["PERIOD_PATTERN", "REGION_CODE_PATTERN", "DistrictCode", "Period", "RegionCode"]
