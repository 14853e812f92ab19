"""What catalog learns from attendance: periods, a child's first attended session, and when an enrolment
that was never attended may expire.

A period is a calendar month in the region's time zone, written ``YYYY-MM`` (attendance's timesheets use the
same). Timesheets reach catalog only after the provider submits the month, up to a few days into the next one, so
"no attended session within N days" can only be decided once the timesheet of the month in which those N days end
has arrived: an enrolment is never expired because its timesheet is merely late.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone(tz_name: str | None) -> ZoneInfo:
    """The region's zone; UTC when the region's configuration (or its zone) is not known yet."""
    try:
        return ZoneInfo(tz_name) if tz_name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def period_of(instant: datetime, tz: ZoneInfo) -> str:
    """The local calendar month containing ``instant`` (timezone-aware), as ``YYYY-MM``."""
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    local = instant.astimezone(tz)
    return f"{local.year:04d}-{local.month:02d}"


def next_month_start(instant: datetime, tz: ZoneInfo) -> datetime:
    """Local midnight of the 1st of the month after the one containing ``instant``, in UTC."""
    local = instant.astimezone(tz)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime(year, month, 1, tzinfo=tz).astimezone(UTC)


def shift_period(period: str, months: int) -> str:
    """``2026-11`` shifted by ``months`` (``shift_period("2026-11", 2) == "2027-01"``)."""
    year, month = (int(part) for part in period.split("-"))
    index = year * 12 + (month - 1) + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def first_attended(sessions: Iterable[tuple[date, time | None, str]], tz: ZoneInfo) -> datetime | None:
    """The start (UTC) of the earliest session marked ``attended``; a session without a time counts from local
    midnight of its day."""
    attended = [(day, starts or time(0)) for day, starts, status in sessions if status == "attended"]
    if not attended:
        return None
    day, starts = min(attended)
    return datetime.combine(day, starts, tzinfo=tz).astimezone(UTC)


def window_end_period(confirmed_at: datetime, tz: ZoneInfo, days: int) -> str:
    """The month in which the ``days``-day window for a first attended session ends."""
    return period_of(confirmed_at + timedelta(days=days), tz)


def decision_at(confirmed_at: datetime, tz: ZoneInfo, days: int, grace_days: int) -> datetime:
    """When the window's last month has been timesheeted: the next month's 1st (local) plus ``grace_days``."""
    return next_month_start(confirmed_at + timedelta(days=days), tz) + timedelta(days=grace_days)


def may_expire(
    confirmed_at: datetime,
    tz: ZoneInfo,
    now: datetime,
    days: int,
    grace_days: int,
    latest_reported_period: str | None,
) -> bool:
    """An enrolment never attended expires once its window is over, the timesheets had time to arrive, and the
    provider did report the window's last month (or a later one) for it, with no attended session in any.

    Without that report nothing is decided: a late timesheet never costs a child its place.
    """
    if latest_reported_period is None or now < decision_at(confirmed_at, tz, days, grace_days):
        return False
    return latest_reported_period >= window_end_period(confirmed_at, tz, days)
