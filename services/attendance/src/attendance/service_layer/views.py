"""What attendance's use cases return (the API's response models): typed, never bare dictionaries."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from attendance.domain.rules import AttendanceRules
from attendance.domain.timesheets import MarkStatus


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class CurrentPeriodOut(Out):
    region_code: str = Field(examples=["astana"])
    timezone: str = Field(examples=["Asia/Almaty"])
    period: str = Field(description="YYYY-MM of the local calendar month", examples=["2026-11"])
    starts_at: datetime = Field(description="local midnight of the 1st, in UTC", examples=["2026-10-31T19:00:00Z"])
    ends_at: datetime = Field(
        description="local midnight of the next month's 1st, in UTC (exclusive)", examples=["2026-11-30T19:00:00Z"]
    )


# --- rules and inspections ---------------------------------------------------------------------------


class RulesOut(Out):
    region_code: str
    revision: int = Field(description="0: the documented defaults (the region has not set its own)")
    source: Literal["default", "region"]
    set_by: str | None
    set_at: datetime | None
    rules: AttendanceRules


class InspectionOut(Out):
    id: UUID
    region_code: str
    district_code: str | None
    provider_id: UUID | None
    announced_at: datetime
    announced_by: str
    note: str


# --- marking and submission --------------------------------------------------------------------------


class SessionOut(Out):
    date: date
    starts_at: time
    ends_at: time
    closure: str | None = Field(description="the closure day's reason; such sessions are not planned")


class MarkOut(Out):
    date: date
    starts_at: time
    status: MarkStatus
    scheduled: bool
    closure_day: bool
    reason: str | None
    marked_by: str
    marked_at: datetime


class ChildSheetOut(Out):
    enrolment_id: UUID
    child_id: UUID
    timesheet_id: UUID | None
    status: str
    first_day: date
    last_day: date | None
    marks: list[MarkOut]
    unmarked: list[SessionOut] = Field(description="scheduled sessions while enrolled that still need a mark")


class ClosureOut(Out):
    date: date
    reason: str


class SheetOut(Out):
    programme_id: UUID
    period: str
    timezone: str
    rules_revision: int
    closure_days: list[ClosureOut]
    sessions: list[SessionOut]
    enrolments: list[ChildSheetOut]


class IncompleteOut(Out):
    timesheet_id: UUID
    enrolment_id: UUID
    missing_sessions: int


class RefusedOut(Out):
    programme_id: UUID
    reason: str


class SubmitOut(Out):
    period: str
    submitted: int
    late: bool
    incomplete_count: int
    incomplete: list[IncompleteOut] = Field(description="the first 1,000 months that still have unmarked sessions")
    refused: list[RefusedOut]


class LatePermitOut(Out):
    programme_id: UUID
    period: str
    granted_by: str
    granted_at: datetime
    valid_until: datetime
    reason: str


# --- timesheets, confirmation, disputes ------------------------------------------------------------------


class TimesheetOut(Out):
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


class DecisionOut(Out):
    action: str
    actor: str
    at: datetime
    detail: dict[str, Any]


class DisputedSessionOut(Out):
    starts_at: datetime
    marked_status: str
    claim: str
    comment: str | None
    ruling: str | None


class DisputeOut(Out):
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


class ConfirmOut(Out):
    confirmed: list[UUID]


class DisputeOpenedOut(Out):
    dispute_id: UUID
    timesheet_id: UUID
    disputed_sessions: int


class ResolvedOut(Out):
    dispute_id: UUID
    timesheet_id: UUID
    outcome: str
    planned_sessions: int
    payable_sessions: int


class PayableOut(Out):
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


class RiskFlagOut(Out):
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


class ScanOut(Out):
    raised: dict[str, int]
