"""Request bodies."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from qosym_chassis.inputs import SafeText

EventType = Annotated[SafeText, Field(min_length=1, max_length=200)]


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://partner.example.kz/webhooks/qosym",
                    "event_types": ["registry.ChildRegistered", "allocation.VoucherAwarded"],
                    "description": "the bank's voucher ledger",
                }
            ]
        },
    )

    url: SafeText = Field(min_length=1, max_length=2048, description="the endpoint that receives the POSTs (https://)")
    event_types: list[EventType] = Field(
        min_length=1, max_length=100, description="event types to receive, e.g. allocation.VoucherAwarded"
    )
    description: SafeText = Field(default="", max_length=200)
