"""Periods: a calendar month in the region's time zone, stored and exchanged in UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class UnknownTimeZone(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    name: str  # YYYY-MM of the local month
    starts_at: datetime  # local midnight of the 1st, in UTC
    ends_at: datetime  # local midnight of the next month's 1st, in UTC (exclusive)


def zone(tz_name: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownTimeZone(f"unknown time zone {tz_name!r}") from exc


def period_containing(instant_utc: datetime, tz_name: str) -> Period:
    """The local calendar month containing the instant; offsets come from tzdata (they change: Almaty 2024)."""
    if instant_utc.tzinfo is None:
        raise ValueError("instant_utc must be timezone-aware")
    tz = zone(tz_name)
    local = instant_utc.astimezone(tz)
    start = datetime(local.year, local.month, 1, tzinfo=tz)
    end = datetime(local.year + local.month // 12, local.month % 12 + 1, 1, tzinfo=tz)
    return Period(
        name=f"{local.year:04d}-{local.month:02d}", starts_at=start.astimezone(UTC), ends_at=end.astimezone(UTC)
    )
