"""Inbox messages: what a person should hear about. Payloads carry opaque ids only (no names, no IIN)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

CHILD_REGISTERED = "child_registered"
SMS = "sms"

# English for now; languages come with the person's preferred language.
TITLES = {CHILD_REGISTERED: "Child registered", SMS: "One-time code"}


@dataclass(frozen=True)
class NewMessage:
    person_id: UUID
    kind: str
    subject_id: UUID
    payload: dict[str, Any] = field(default_factory=dict)


def child_registered(guardian_id: UUID, child_id: UUID, region_code: str, district_code: str) -> NewMessage:
    return NewMessage(
        person_id=guardian_id,
        kind=CHILD_REGISTERED,
        subject_id=child_id,
        payload={"child_id": str(child_id), "region_code": region_code, "district_code": district_code},
    )


def sms(person_id: UUID, message_id: UUID, text: str) -> NewMessage:
    """A text message delivered to the inbox by the development SMS gateway stand-in (the phone is not kept)."""
    return NewMessage(person_id=person_id, kind=SMS, subject_id=message_id, payload={"text": text})


def title_for(kind: str) -> str:
    return TITLES.get(kind, kind.replace("_", " ").capitalize())


@dataclass(frozen=True)
class Message:
    id: UUID
    person_id: UUID
    kind: str
    subject_id: UUID
    payload: dict[str, Any]
    created_at: datetime
    read_at: datetime | None
