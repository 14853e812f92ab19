"""HTTP models of the attendance API."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from attendance.domain.rules import AttendanceRules
from qosym_chassis.inputs import MultilineText, SafeText, SaneDate, SaneDatetime

Period = Annotated[str, Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", examples=["2026-11"])]
Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{1,63}$", examples=["astana"])]
MarkStatus = Literal["attended", "absent", "cancelled_by_provider"]
Reason = Annotated[SafeText, Field(min_length=1, max_length=500)]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CurrentPeriodOut(BaseModel):
    region_code: str = Field(examples=["astana"])
    timezone: str = Field(examples=["Asia/Almaty"])
    period: str = Field(description="YYYY-MM of the local calendar month", examples=["2026-11"])
    starts_at: datetime = Field(description="local midnight of the 1st, in UTC", examples=["2026-10-31T19:00:00Z"])
    ends_at: datetime = Field(
        description="local midnight of the next month's 1st, in UTC (exclusive)", examples=["2026-11-30T19:00:00Z"]
    )


# --- rules and inspections ---------------------------------------------------------------------------


class RulesOut(BaseModel):
    region_code: str
    revision: int = Field(description="0: the documented defaults (the region has not set its own)")
    source: Literal["default", "region"]
    set_by: str | None
    set_at: datetime | None
    rules: AttendanceRules


class InspectionIn(In):
    district_code: Code | None = Field(default=None, description="only this district (default: the whole region)")
    provider_id: UUID | None = Field(default=None, description="only this provider")
    announced_at: SaneDatetime | None = Field(default=None, description="when it was announced (default: now)")
    note: Reason


class InspectionOut(BaseModel):
    id: UUID
    region_code: str
    district_code: str | None
    provider_id: UUID | None
    announced_at: datetime
    announced_by: str
    note: str


# --- marking and submission --------------------------------------------------------------------------


class MarkIn(In):
    enrolment_id: UUID
    date: SaneDate
    starts_at: time | None = Field(
        default=None, description="local start time; needed off the schedule or when a day has several sessions"
    )
    status: MarkStatus
    reason: Reason | None = Field(default=None, description="required off the schedule and on closure days")


class MarksIn(In):
    all_scheduled: MarkStatus | None = Field(
        default=None,
        description="mark every past scheduled session of every child of the group with this status first "
        "(closure days excepted); then `marks` override single sessions",
    )
    marks: list[MarkIn] = Field(default_factory=list, max_length=5000)


class SessionOut(BaseModel):
    date: date
    starts_at: time
    ends_at: time
    closure: str | None = Field(description="the closure day's reason; such sessions are not planned")


class MarkOut(BaseModel):
    date: date
    starts_at: time
    status: MarkStatus
    scheduled: bool
    closure_day: bool
    reason: str | None
    marked_by: str
    marked_at: datetime


class ChildSheetOut(BaseModel):
    enrolment_id: UUID
    child_id: UUID
    timesheet_id: UUID | None
    status: str
    first_day: date
    last_day: date | None
    marks: list[MarkOut]
    unmarked: list[SessionOut] = Field(description="scheduled sessions while enrolled that still need a mark")


class ClosureOut(BaseModel):
    date: date
    reason: str


class SheetOut(BaseModel):
    programme_id: UUID
    period: str
    timezone: str
    rules_revision: int
    closure_days: list[ClosureOut]
    sessions: list[SessionOut]
    enrolments: list[ChildSheetOut]


class SubmitIn(In):
    enrolment_ids: list[UUID] | None = Field(default=None, max_length=10000, description="only these (default: all)")


class IncompleteOut(BaseModel):
    timesheet_id: UUID
    enrolment_id: UUID
    missing_sessions: int


class RefusedOut(BaseModel):
    programme_id: UUID
    reason: str


class SubmitOut(BaseModel):
    period: str
    submitted: int
    late: bool
    incomplete_count: int
    incomplete: list[IncompleteOut] = Field(description="the first 1,000 months that still have unmarked sessions")
    refused: list[RefusedOut]


class LatePermitIn(In):
    reason: Reason
    days: int = Field(default=7, ge=1, le=31, description="how long the provider may submit late")


class LatePermitOut(BaseModel):
    programme_id: UUID
    period: str
    granted_by: str
    granted_at: datetime
    valid_until: datetime
    reason: str


# --- timesheets, confirmation, disputes ------------------------------------------------------------------


class TimesheetOut(BaseModel):
    id: UUID
    enrolment_id: UUID
    period: str
    child_id: UUID
    programme_id: UUID
    provider_id: UUID
    region_code: str
    district_code: str
    status: Literal["draft", "submitted", "confirmed", "disputed", "resolved", "lapsed"]
    planned_sessions: int | None
    attended_sessions: int | None
    absent_sessions: int | None
    cancelled_sessions: int | None
    payable_sessions: int | None = Field(description="set once confirmed or resolved")
    basis: str | None
    confirm_by: datetime | None = Field(description="the guardian's deadline")
    late: bool
    submitted_at: datetime | None
    submitted_by: str | None
    decided_at: datetime | None
    decided_by: str | None


class DecisionOut(BaseModel):
    action: str
    actor: str
    at: datetime
    detail: dict[str, Any]


class DisputedSessionOut(BaseModel):
    starts_at: datetime
    marked_status: str
    claim: str
    comment: str | None
    ruling: str | None


class DisputeOut(BaseModel):
    id: UUID
    timesheet_id: UUID
    region_code: str
    district_code: str
    opened_by: str
    opened_at: datetime
    comment: str
    status: str
    outcome: str | None
    resolved_by: str | None
    resolved_at: datetime | None
    resolution_comment: str | None


class DisputeDetailOut(DisputeOut):
    sessions: list[DisputedSessionOut]


class TimesheetDetailOut(TimesheetOut):
    timezone: str
    sessions: list[MarkOut]
    decisions: list[DecisionOut] = Field(description="every decision on this month, with who made it")
    dispute: DisputeDetailOut | None


class ConfirmIn(In):
    timesheet_ids: list[UUID] = Field(min_length=1, max_length=1000)


class ConfirmOut(BaseModel):
    confirmed: list[UUID]


class SessionRefIn(In):
    date: SaneDate
    starts_at: time | None = Field(default=None, description="local start time, when a day has several sessions")


class DisputedSessionIn(SessionRefIn):
    claim: Literal["attended", "absent", "not_held"] = Field(
        description="what really happened: the child attended, was absent, or the session was not held"
    )
    comment: Annotated[MultilineText, Field(max_length=1000)] | None = None


class DisputeIn(In):
    comment: Annotated[MultilineText, Field(min_length=1, max_length=2000)]
    sessions: list[DisputedSessionIn] = Field(min_length=1, max_length=100)


class DisputeOpenedOut(BaseModel):
    dispute_id: UUID
    timesheet_id: UUID
    disputed_sessions: int


class RulingIn(SessionRefIn):
    ruling: Literal["guardian_upheld", "provider_upheld"]


class ResolveIn(In):
    rulings: list[RulingIn] = Field(min_length=1, max_length=100, description="one per disputed session")
    comment: Annotated[MultilineText, Field(min_length=1, max_length=2000)]


class ResolvedOut(BaseModel):
    dispute_id: UUID
    timesheet_id: UUID
    outcome: str
    planned_sessions: int
    payable_sessions: int


class PayableOut(BaseModel):
    timesheet_id: UUID
    enrolment_id: UUID
    provider_id: UUID
    child_id: UUID
    region_code: str
    period: str
    planned_sessions: int
    payable_sessions: int
    basis: Literal["guardian_confirmed", "deemed_confirmed", "dispute_resolved"]


# --- risk flags ------------------------------------------------------------------------------------------


class RiskFlagOut(BaseModel):
    id: UUID
    rule: str
    subject_type: str
    subject_id: UUID
    provider_id: UUID | None
    region_code: str
    period: str
    severity: str
    summary: str
    evidence: dict[str, Any]
    raised_at: datetime
    status: str
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_note: str | None


class ReviewIn(In):
    outcome: Literal["dismissed", "confirmed"]
    note: Reason


class ScanOut(BaseModel):
    raised: dict[str, int]
