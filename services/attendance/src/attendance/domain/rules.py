"""A region's attendance rules: deadlines, closure days, and what of a month is payable.

They are data, per region, set by administrators (PUT /v1/regions/{code}/attendance-rules); a region
without its own rules uses the defaults below from the moment it is configured. Each timesheet is judged
by the rules in force when it was submitted (it records their revision), so a later change never alters
a month already submitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

import holidays
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, field_validator

from attendance.domain.period import local_instant, parse_period_name, shift_period
from qosym_chassis.inputs import SafeText, SaneDate

NoAnswer = Literal["not_payable", "deemed_confirmed"]
CancelledPolicy = Literal["not_payable", "excluded_from_plan", "payable"]


class ClosureDay(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    date: SaneDate
    reason: SafeText = Field(min_length=1, max_length=200, examples=["quarantine in schools"])


class AttendanceRules(BaseModel):
    """Every field has a documented default; see the service README for the reasoning."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "no_answer": "deemed_confirmed",
                    "min_attended_sessions": 2,
                    "closure_days": [{"date": "2026-10-12", "reason": "quarantine"}],
                }
            ]
        },
    )

    submission_deadline_day: StrictInt = Field(
        default=3, ge=1, le=28, description="providers submit a month until the end of this day of the next month"
    )
    confirmation_deadline_day: StrictInt = Field(
        default=5, ge=1, le=28, description="guardians confirm or dispute until the end of this day of the next month"
    )
    late_confirmation_days: StrictInt = Field(
        default=3, ge=1, le=31, description="after a late submission the guardian still gets this many days"
    )
    no_answer: NoAnswer = Field(
        default="not_payable",
        description="a timesheet the guardian neither confirmed nor disputed by the deadline: not payable, "
        "or deemed confirmed",
    )
    absent_sessions_payable: StrictBool = Field(
        default=False, description="true: a session the child missed still counts (the seat was held)"
    )
    provider_cancelled: CancelledPolicy = Field(
        default="not_payable",
        description="not_payable: counts against the provider; excluded_from_plan: the month's plan shrinks; "
        "payable: counts as held",
    )
    min_attended_sessions: StrictInt = Field(
        default=1, ge=0, le=100, description="a month with fewer attended sessions pays nothing"
    )
    min_attendance_percent: StrictInt = Field(
        default=0,
        ge=0,
        le=100,
        description="a month in which the child attended less than this share of the sessions scheduled while "
        "enrolled pays nothing",
    )
    public_holidays: Literal["KZ"] | None = Field(
        default="KZ", description="whose public holidays are closure days (None: only the listed closure days)"
    )
    closure_days: list[ClosureDay] = Field(default_factory=list, max_length=366)

    @field_validator("closure_days")
    @classmethod
    def _one_entry_per_day(cls, value: list[ClosureDay]) -> list[ClosureDay]:
        days = [d.date for d in value]
        if len(days) != len(set(days)):
            raise ValueError("each day may be listed once")
        return sorted(value, key=lambda d: d.date)

    def closures_in(self, period: str) -> dict[date, str]:
        """Closure days of the period with their reason: the listed ones and the public holidays."""
        year, month = parse_period_name(period)
        found: dict[date, str] = {}
        if self.public_holidays:
            for day, name in holidays.country_holidays(self.public_holidays, years=year).items():
                if day.month == month:
                    found[day] = f"public holiday: {name}"
        for closure in self.closure_days:
            if (closure.date.year, closure.date.month) == (year, month):
                found[closure.date] = closure.reason
        return dict(sorted(found.items()))

    def submission_deadline(self, period: str, tz_name: str) -> datetime:
        return _end_of_day_next_month(period, self.submission_deadline_day, tz_name)

    def confirmation_deadline(self, period: str, tz_name: str, submitted_at: datetime, late: bool) -> datetime:
        deadline = _end_of_day_next_month(period, self.confirmation_deadline_day, tz_name)
        if late:
            return max(deadline, submitted_at + timedelta(days=self.late_confirmation_days))
        return deadline


DEFAULT_RULES = AttendanceRules()


def _end_of_day_next_month(period: str, day: int, tz_name: str) -> datetime:
    year, month = parse_period_name(shift_period(period, 1))
    return local_instant(date(year, month, day) + timedelta(days=1), datetime.min.time(), tz_name)


@dataclass(frozen=True)
class Tally:
    """What a month's marks add up to."""

    planned: int  # sessions the schedule planned in the whole month, closure days excluded
    in_span: int  # of those, the ones while the child was enrolled
    attended: int
    absent: int
    cancelled: int


def planned_sessions(tally: Tally, rules: AttendanceRules) -> int:
    if rules.provider_cancelled == "excluded_from_plan":
        return max(0, tally.planned - tally.cancelled)
    return tally.planned


def payable_sessions(tally: Tally, rules: AttendanceRules) -> int:
    """The sessions payments may pay for, out of ``planned_sessions`` (never more than planned)."""
    if tally.attended < rules.min_attended_sessions:
        return 0
    if tally.attended * 100 < rules.min_attendance_percent * tally.in_span:
        return 0
    counted = tally.attended
    if rules.absent_sessions_payable:
        counted += tally.absent
    if rules.provider_cancelled == "payable":
        counted += tally.cancelled
    return min(counted, planned_sessions(tally, rules))
