"""Events published by the attendance service (owned by the attendance developers).

A timesheet is one enrolment's sessions in one period (a calendar month in the region's time zone,
written ``YYYY-MM``). Its events are keyed by the timesheet id, so Submitted → Confirmed / Disputed →
DisputeResolved stay in order. Attendance decides which sessions are payable (the region's rules);
payments only applies its formula to ``payable_sessions`` / ``planned_sessions``.
"""

from __future__ import annotations

from datetime import date, time
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from qosym_contracts import topics
from qosym_contracts.envelope import IntegrationEvent
from qosym_contracts.types import Period


class SessionMark(BaseModel):
    """One scheduled (or reasoned extra) session of a timesheet, as the provider marked it."""

    model_config = ConfigDict(frozen=True)

    date: date
    starts_at: time | None = Field(default=None, description="local start time from the programme's schedule")
    status: Literal["attended", "absent", "cancelled_by_provider"]


class _TimesheetEvent(IntegrationEvent):
    topic: ClassVar[str] = topics.ATTENDANCE_TIMESHEET.name
    key_field: ClassVar[str] = "timesheet_id"

    timesheet_id: UUID
    enrolment_id: UUID
    child_id: UUID
    programme_id: UUID
    provider_id: UUID
    region_code: str = Field(examples=["astana"])
    period: Period = Field(description="local calendar month")
    planned_sessions: int = Field(ge=0, description="sessions the schedule planned for this enrolment in the period")


class AttendanceSubmittedV1(_TimesheetEvent):
    """The provider submitted the month: the guardian may now confirm or dispute it until ``confirm_by``."""

    event_type: Literal["attendance.AttendanceSubmitted"] = "attendance.AttendanceSubmitted"
    event_version: Literal[1] = 1

    district_code: str
    attended_sessions: int = Field(ge=0)
    sessions: list[SessionMark]
    confirm_by: AwareDatetime = Field(description="the guardian's deadline, UTC")
    late: bool = Field(default=False, description="submitted after the deadline with an operator's permission")


class AttendanceConfirmedV1(_TimesheetEvent):
    """The month is payable: ``payable_sessions`` count (by the region's rules) out of ``planned_sessions``."""

    event_type: Literal["attendance.AttendanceConfirmed"] = "attendance.AttendanceConfirmed"
    event_version: Literal[1] = 1

    payable_sessions: int = Field(ge=0)
    attended_sessions: int = Field(ge=0)
    basis: Literal["guardian_confirmed", "deemed_confirmed"] = Field(
        description="deemed_confirmed: the guardian did not answer by the deadline and the region's rule deems it confirmed"
    )


class AttendanceDisputedV1(_TimesheetEvent):
    """The guardian disputed some sessions; an operator decides. Nothing of the month is payable meanwhile."""

    event_type: Literal["attendance.AttendanceDisputed"] = "attendance.AttendanceDisputed"
    event_version: Literal[1] = 1

    dispute_id: UUID
    disputed_sessions: int = Field(ge=1)


class DisputeResolvedV1(_TimesheetEvent):
    """An operator resolved the dispute: ``payable_sessions`` is what counts (payments posts it like a confirmation)."""

    event_type: Literal["attendance.DisputeResolved"] = "attendance.DisputeResolved"
    event_version: Literal[1] = 1

    dispute_id: UUID
    payable_sessions: int = Field(ge=0)
    attended_sessions: int = Field(ge=0)
    outcome: Literal["guardian_upheld", "provider_upheld", "partly_upheld"]


RiskRule = Literal[
    "coach_double_booked",
    "facility_over_capacity",
    "closure_day_attendance",
    "identical_patterns",
    "guardian_never_confirms",
    "enrolled_in_two_regions",
    "drop_after_inspection_notice",
]


class RiskFlagRaisedV1(IntegrationEvent):
    """A fraud or quality signal for operators, with the evidence kept in attendance (no personal data here)."""

    topic: ClassVar[str] = topics.ATTENDANCE_RISK.name
    key_field: ClassVar[str] = "subject_id"

    event_type: Literal["attendance.RiskFlagRaised"] = "attendance.RiskFlagRaised"
    event_version: Literal[1] = 1

    flag_id: UUID
    rule: RiskRule
    subject_type: Literal["staff", "facility", "programme", "provider", "child", "enrolment"]
    subject_id: UUID
    provider_id: UUID | None = None
    region_code: str
    period: Period
    severity: Literal["low", "medium", "high"]
    summary: str = Field(max_length=500, description="what was seen, without names or IINs")
