"""Events published by the notifications service (owned by the notifications developers)."""

from __future__ import annotations

from typing import ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from qosym_contracts import topics
from qosym_contracts.envelope import IntegrationEvent


class NotificationDeliveredV1(IntegrationEvent):
    """A message reached a person through one channel (no address or content here, only what and where)."""

    topic: ClassVar[str] = topics.NOTIFICATIONS_DELIVERY.name
    key_field: ClassVar[str] = "person_id"

    event_type: Literal["notifications.NotificationDelivered"] = "notifications.NotificationDelivered"
    event_version: Literal[1] = 1

    notification_id: UUID
    person_id: UUID
    kind: str = Field(max_length=100, examples=["voucher_awarded"])
    channel: Literal["in_app", "email", "sms"]
    delivered_at: AwareDatetime
