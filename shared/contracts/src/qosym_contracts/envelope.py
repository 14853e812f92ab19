"""The base every integration event derives from."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator


def utc_now() -> datetime:
    return datetime.now(UTC)


class IntegrationEvent(BaseModel):
    """Fields every event carries. ``event_id`` is the idempotency key for consumers."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    topic: ClassVar[str]
    key_field: ClassVar[str]

    event_id: UUID = Field(default_factory=uuid4, description="unique id; consumers deduplicate on it")
    event_type: str
    event_version: int
    occurred_at: AwareDatetime = Field(default_factory=utc_now, description="when it happened, UTC")

    @field_validator("occurred_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @property
    def message_key(self) -> str:
        """The Kafka message key: the aggregate id, so one aggregate's events stay in order."""
        return str(getattr(self, self.key_field))
