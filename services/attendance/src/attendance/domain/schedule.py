"""Which sessions a programme's weekly schedule plans in a period, for the whole group or one enrolment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from attendance.domain.period import local_instant, month_days

DEFAULT_EXTRA_SESSION = timedelta(hours=1)


@dataclass(frozen=True)
class Slot:
    weekday: int  # ISO, 1 = Monday
    start: time
    end: time

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Slot:
        return cls(int(raw["weekday"]), time.fromisoformat(str(raw["start"])), time.fromisoformat(str(raw["end"])))


@dataclass(frozen=True)
class Session:
    day: date
    start: time
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    closure: str | None = None  # the closure day's reason, when it falls on one


def scheduled_sessions(
    period: str, slots: list[Slot], tz_name: str, closures: dict[date, str], *, include_closures: bool = False
) -> list[Session]:
    """The schedule's sessions of the whole month in the region's zone, in time order."""
    sessions = []
    for day in month_days(period):
        for slot in slots:
            if slot.weekday != day.isoweekday():
                continue
            closure = closures.get(day)
            if closure is not None and not include_closures:
                continue
            sessions.append(
                Session(
                    day=day,
                    start=slot.start,
                    starts_at=local_instant(day, slot.start, tz_name),
                    ends_at=local_instant(day if slot.end > slot.start else day + timedelta(days=1), slot.end, tz_name),
                    closure=closure,
                )
            )
    return sorted(sessions, key=lambda s: s.starts_at)


def in_span(session: Session, first_day: date, last_day: date | None) -> bool:
    """Whether the child was enrolled on the session's day (enrolment dates are local days, inclusive)."""
    return session.day >= first_day and (last_day is None or session.day <= last_day)


def typical_length(slots: list[Slot]) -> timedelta:
    for slot in slots:
        start = datetime.combine(date(2000, 1, 3), slot.start)
        end = datetime.combine(date(2000, 1, 3 if slot.end > slot.start else 4), slot.end)
        return end - start
    return DEFAULT_EXTRA_SESSION
