"""Non-personal dimensions: the age band from a birth year, the pseudonymous child key, a month."""

from __future__ import annotations

import hashlib
from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo

AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("0-5", 0, 5),
    ("6-9", 6, 9),
    ("10-13", 10, 13),
    ("14-17", 14, 17),
    ("18+", 18, 200),
)
UNKNOWN = "unknown"
NO_CATEGORY = "none"


def age_band(birth_year: int | None, on_year: int) -> str:
    """The band of the age a child reaches in ``on_year`` (only the birth year is kept, never the date)."""
    if birth_year is None:
        return UNKNOWN
    age = on_year - birth_year
    for name, low, high in AGE_BANDS:
        if low <= age <= high:
            return name
    return UNKNOWN


def child_key(salt: str, child_id: UUID) -> str:
    """A salted hash of the child id: counts distinct children, cannot be joined to another service's records."""
    return hashlib.sha256(f"{salt}:{child_id}".encode()).hexdigest()


def month_of(instant: datetime, timezone: str | None) -> str:
    """The local calendar month (``YYYY-MM``) of an instant in the region's time zone (UTC when unknown)."""
    local = instant.astimezone(ZoneInfo(timezone)) if timezone else instant
    return f"{local.year:04d}-{local.month:02d}"


def add_months(instant: datetime, months: int) -> datetime:
    month = instant.month - 1 + months
    year = instant.year + month // 12
    month = month % 12 + 1
    day = min(instant.day, [31, 29 if year % 4 == 0 else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1])
    return instant.replace(year=year, month=month, day=day)
