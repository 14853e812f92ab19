"""Request bodies of the allocation API (the responses are the use cases' models, allocation.service_layer.views)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from qosym_chassis.inputs import SafeText
from qosym_contracts.allocation import EarlyCloseReason, VoucherRevokeReason


class ApplicationIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"child_id": "0b9c3f6e-5d2a-4e8b-9a61-3c2f1d7e8a90", "direction": "sports"}]},
    )

    child_id: UUID
    direction: SafeText = Field(min_length=1, max_length=64)


class CloseIn(BaseModel):
    """Only for closing before the announced window end: why (a code, told to applicants) and a note (kept here)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "demand_met", "note": "every district's quota is covered"}]},
    )

    reason: EarlyCloseReason
    note: SafeText | None = Field(default=None, min_length=1, max_length=500)


class SimulationIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"weights": {"large_family": 90}, "quotas": {"yesil": {"sports": 3, "creativity": 1}}}]
        },
    )

    weights: dict[SafeText, Annotated[StrictInt, Field(ge=0, le=1000)]] | None = None
    quotas: dict[SafeText, dict[SafeText, Annotated[StrictInt, Field(ge=0, le=10_000_000)]]] | None = None


class RevokeIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"reason": "false_information", "note": "the declared address did not match the registry"}]
        },
    )

    reason: VoucherRevokeReason = Field(description="a reason code; it is what VoucherRevoked carries")
    note: SafeText | None = Field(
        default=None, min_length=1, max_length=500, description="the administrator's note; it stays in allocation"
    )
