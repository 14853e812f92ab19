"""Periods: a calendar month in the region's time zone, stored and exchanged in UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
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


def period_named(name: str, tz_name: str) -> Period:
    """The period called ``YYYY-MM`` in the zone (a malformed name raises ValueError)."""
    year, month = parse_period_name(name)
    tz = zone(tz_name)
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
    return Period(name=name, starts_at=start.astimezone(UTC), ends_at=end.astimezone(UTC))


def parse_period_name(name: str) -> tuple[int, int]:
    if len(name) != 7 or name[4] != "-" or not (name[:4] + name[5:]).isdigit():
        raise ValueError(f"a period is written YYYY-MM, not {name!r}")
    year, month = int(name[:4]), int(name[5:])
    if not 1 <= month <= 12 or year < 2000:
        raise ValueError(f"no such month: {name!r}")
    return year, month


def shift_period(name: str, months: int) -> str:
    """The period ``months`` later (negative: earlier)."""
    year, month = parse_period_name(name)
    index = year * 12 + (month - 1) + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_days(name: str) -> list[date]:
    year, month = parse_period_name(name)
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return [date.fromordinal(n) for n in range(first.toordinal(), following.toordinal())]


def local_date(instant_utc: datetime, tz_name: str) -> date:
    return instant_utc.astimezone(zone(tz_name)).date()


def local_instant(day: date, at: time, tz_name: str) -> datetime:
    """A local wall-clock time on a day, as a UTC instant."""
    return datetime.combine(day, at, tzinfo=zone(tz_name)).astimezone(UTC)
