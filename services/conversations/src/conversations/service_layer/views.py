"""What the use cases answer (typed models; the routes return them as they are)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from conversations.domain.messages import Language
from conversations.domain.participants import Counterpart, ObjectType, Side


class ReceiptOut(BaseModel):
    reader_id: str
    reader_side: Side
    last_read_message_id: UUID
    read_at: datetime


class ThreadOut(BaseModel):
    thread_id: UUID
    object_type: ObjectType
    object_id: UUID
    counterpart: Counterpart
    child_id: UUID
    provider_id: UUID | None
    region_code: str | None
    started_by_side: Side
    started_at: datetime
    your_side: Side
    receipts: list[ReceiptOut] = Field(default_factory=list, description="how far each participant has read")


class AttachmentOut(BaseModel):
    attachment_id: UUID
    message_id: UUID
    media_type: str
    size_bytes: int


class MessageOut(BaseModel):
    message_id: UUID
    thread_id: UUID
    author_side: Side
    author_id: str
    language: Language
    text: str
    posted_at: datetime
    attachments: list[AttachmentOut] = Field(default_factory=list)


class Download(BaseModel):
    media_type: str
    content: bytes


class ProviderResponseTimes(BaseModel):
    provider_id: UUID
    answered: int = Field(description="guardian turns the provider answered")
    unanswered: int = Field(description="guardian turns still waiting for the provider's first reply")
    median_s: float | None
    p90_s: float | None


class ResponseTimesOut(BaseModel):
    region_code: str
    providers: list[ProviderResponseTimes]
