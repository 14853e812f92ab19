"""What the API returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field


class SubscriptionOut(BaseModel):
    subscription_id: UUID
    url: str
    event_types: list[str]
    description: str
    created_at: datetime


class NewSubscriptionOut(SubscriptionOut):
    secret: str = Field(
        description="the signing secret (whsec_…): shown this once, never again; keep it in your secret store"
    )


class DeliveryOut(BaseModel):
    delivery_id: UUID = Field(description="the webhook-id header of every attempt")
    subscription_id: UUID
    event_id: UUID
    event_type: str
    status: str = Field(description="pending, delivered or dead (dead-lettered after the last attempt)")
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    total: int
    offset: int
    limit: int


class EventTypeOut(BaseModel):
    event_type: str
    topic: str
    key_field: str


def subscription_view(row: Any) -> SubscriptionOut:
    return SubscriptionOut(
        subscription_id=row.subscription_id,
        url=row.url,
        event_types=list(row.event_types),
        description=row.description,
        created_at=row.created_at,
    )


def delivery_view(row: Any) -> DeliveryOut:
    return DeliveryOut(
        delivery_id=row.delivery_id,
        subscription_id=row.subscription_id,
        event_id=row.event_id,
        event_type=row.event_type,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at if row.status == "pending" else None,
        last_attempt_at=row.last_attempt_at,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
    )
