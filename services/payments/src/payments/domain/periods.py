"""Periods: a calendar month in the region's time zone, written YYYY-MM."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from qosym_contracts.types import PERIOD_PATTERN

PERIOD = re.compile(PERIOD_PATTERN)


def period_of(instant: datetime, timezone: str) -> str:
    """The local calendar month containing an aware instant (offsets from tzdata: Almaty is UTC+5 since 2024-03)."""
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    local = instant.astimezone(ZoneInfo(timezone))
    return f"{local.year:04d}-{local.month:02d}"


def parse(period: str) -> tuple[int, int]:
    match = PERIOD.match(period)
    if not match:
        raise ValueError("a period is YYYY-MM")
    year, month = period.split("-")
    return int(year), int(month)


def month_index(period: str) -> int:
    year, month = parse(period)
    return year * 12 + month - 1


def months_after(period: str, last: str) -> int:
    """How many months follow ``period`` up to and including ``last`` (0 if ``last`` is not later)."""
    return max(0, month_index(last) - month_index(period))


def period_of_date(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def school_year_end(period: str, end_month: int) -> str:
    """The last month of the school year a period belongs to, when the year ends in ``end_month`` (May: 5)."""
    year, month = parse(period)
    return f"{year if month <= end_month else year + 1:04d}-{end_month:02d}"
