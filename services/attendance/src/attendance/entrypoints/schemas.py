"""Request models of the attendance API (the response models are the use cases' own, service_layer/views.py)."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from attendance.domain.timesheets import MarkStatus
from qosym_chassis.inputs import MultilineText, SafeText, SaneDate, SaneDatetime
from qosym_contracts.types import DistrictCode

Reason = Annotated[SafeText, Field(min_length=1, max_length=500)]
SOME_ID = "0b7f3c7e-5a0e-4c1e-9d5b-2f4a8f1c6e21"


def example(**body: Any) -> ConfigDict:
    """A request model that refuses unknown fields and documents one example body."""
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [body]})


# --- rules and inspections ---------------------------------------------------------------------------


class InspectionIn(BaseModel):
    model_config = example(district_code="esil", note="announced by the regional education office")

    district_code: DistrictCode | None = Field(
        default=None, description="only this district (default: the whole region)"
    )
    provider_id: UUID | None = Field(default=None, description="only this provider")
    announced_at: SaneDatetime | None = Field(default=None, description="when it was announced (default: now)")
    note: Reason


# --- marking and submission --------------------------------------------------------------------------


class MarkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enrolment_id: UUID
    date: SaneDate
    starts_at: time | None = Field(
        default=None, description="local start time; needed off the schedule or when a day has several sessions"
    )
    status: MarkStatus
    reason: Reason | None = Field(default=None, description="required off the schedule and on closure days")


class MarksIn(BaseModel):
    model_config = example(
        all_scheduled="attended",
        marks=[{"enrolment_id": SOME_ID, "date": "2026-10-12", "status": "absent"}],
    )

    all_scheduled: MarkStatus | None = Field(
        default=None,
        description="mark every past scheduled session of every child of the group with this status first "
        "(closure days excepted); then `marks` override single sessions",
    )
    marks: list[MarkIn] = Field(default_factory=list, max_length=5000)


class SubmitIn(BaseModel):
    model_config = example(enrolment_ids=[SOME_ID])

    enrolment_ids: list[UUID] | None = Field(default=None, max_length=10000, description="only these (default: all)")


class LatePermitIn(BaseModel):
    model_config = example(reason="the coach was ill during the last week of the month", days=7)

    reason: Reason
    days: int = Field(default=7, ge=1, le=31, description="how long the provider may submit late")


# --- timesheets, confirmation, disputes ------------------------------------------------------------------


class ConfirmIn(BaseModel):
    model_config = example(timesheet_ids=[SOME_ID])

    timesheet_ids: list[UUID] = Field(min_length=1, max_length=1000)


class SessionRefIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: SaneDate
    starts_at: time | None = Field(default=None, description="local start time, when a day has several sessions")


class DisputedSessionIn(SessionRefIn):
    claim: Literal["attended", "absent", "not_held"] = Field(
        description="what really happened: the child attended, was absent, or the session was not held"
    )
    comment: Annotated[MultilineText, Field(max_length=1000)] | None = None


class DisputeIn(BaseModel):
    model_config = example(
        comment="my child was at the session on the 12th",
        sessions=[{"date": "2026-10-12", "claim": "attended", "comment": "we were there"}],
    )

    comment: Annotated[MultilineText, Field(min_length=1, max_length=2000)]
    sessions: list[DisputedSessionIn] = Field(min_length=1, max_length=100)


class RulingIn(SessionRefIn):
    ruling: Literal["guardian_upheld", "provider_upheld"]


class ResolveIn(BaseModel):
    model_config = example(
        rulings=[{"date": "2026-10-12", "ruling": "guardian_upheld"}],
        comment="the coach's own register shows the child present",
    )

    rulings: list[RulingIn] = Field(min_length=1, max_length=100, description="one per disputed session")
    comment: Annotated[MultilineText, Field(min_length=1, max_length=2000)]


# --- risk flags ------------------------------------------------------------------------------------------


class ReviewIn(BaseModel):
    model_config = example(outcome="dismissed", note="a registered tournament explains the attendance")

    outcome: Literal["dismissed", "confirmed"]
    note: Reason
