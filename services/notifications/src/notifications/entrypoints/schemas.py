"""HTTP models of the notifications API."""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from qosym_chassis.inputs import MultilineText, SafeText

PHONE = re.compile(r"^\+[1-9][0-9]{7,14}$")


class MessageOut(BaseModel):
    id: UUID
    seq: int = Field(description="increasing number; the stream's event id (Last-Event-ID)")
    kind: str = Field(examples=["voucher_awarded"])
    subject_id: UUID = Field(description="what the message is about: the application, voucher, enrolment …")
    payload: dict[str, Any] = Field(description="opaque ids, codes, dates and amounts only")
    created_at: datetime
    read_at: datetime | None = Field(description="when the caller read it (each reader has their own)")
    title: str = Field(description="in the caller's language")
    body: str | None = Field(description="the message text in the caller's language")
    language: str = Field(examples=["kk"])


class UnreadOut(BaseModel):
    unread: int


class TicketOut(BaseModel):
    ticket: str = Field(description="single use; pass it as ?ticket= to the stream within expires_in seconds")
    expires_in: int
    stream_url: str


class EmailIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: EmailStr | None = None
    consent: bool = Field(description="false withdraws consent: the stored address is deleted")

    @model_validator(mode="after")
    def _address_with_consent(self) -> EmailIn:
        if self.consent and self.address is None:
            raise ValueError("an address is required with consent")
        return self


class PhoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: SafeText | None = Field(default=None, max_length=16, examples=["+77011234567"])
    consent: bool = Field(description="false withdraws consent: the stored number is deleted")

    @field_validator("number")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        if value is not None and not PHONE.match(value):
            raise ValueError("an international number like +77011234567")
        return value

    @model_validator(mode="after")
    def _number_with_consent(self) -> PhoneIn:
        if self.consent and self.number is None:
            raise ValueError("a number is required with consent")
        return self


class QuietHoursIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: time = Field(examples=["22:00"])
    end: time = Field(examples=["07:00"])


class PreferencesIn(BaseModel):
    """The whole set (PUT replaces it). No e-mail or SMS is ever sent without an address given with consent."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "language": "kk",
                    "timezone": "Asia/Almaty",
                    "email": {"address": "aigerim@example.kz", "consent": True},
                    "phone": {"number": "+77011234567", "consent": False},
                    "channels": {"default": ["email"], "voucher_awarded": ["email", "sms"]},
                    "quiet_hours": {"start": "22:00", "end": "07:00"},
                }
            ]
        },
    )

    language: Literal["kk", "ru", "en"]
    timezone: SafeText = Field(default="Asia/Almaty", max_length=64, examples=["Asia/Almaty"])
    email: EmailIn | None = None
    phone: PhoneIn | None = None
    channels: dict[SafeText, list[Literal["email", "sms"]]] = Field(
        default_factory=dict,
        examples=[{"default": ["email"], "voucher_awarded": ["email", "sms"]}],
        description="per kind (or 'default'): which of email and sms; in-app is always on",
    )
    quiet_hours: QuietHoursIn | None = Field(default=None, description="local times: e-mail and SMS wait until the end")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("an IANA time zone like Asia/Almaty") from exc
        return value


class ContactOut(BaseModel):
    address: str
    consented_at: datetime | None


class PreferencesOut(BaseModel):
    language: str | None
    timezone: str
    email: ContactOut | None
    phone: ContactOut | None
    channels: dict[str, list[str]]
    quiet_hours: QuietHoursIn | None


class SmsIn(BaseModel):
    """The SMS gateway contract the registry speaks, plus the recipient's opaque person id as `reference`."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "to": "+77011234567",
                    "text": "Qosym: your code is 123456",
                    "reference": "3f0c6a52-8f3e-4a55-9a0e-2f8f3c1d7b21",
                }
            ]
        },
    )

    to: SafeText = Field(max_length=32, examples=["+77011234567"], description="not stored: the inbox stands in for it")
    text: MultilineText = Field(min_length=1, max_length=1000)
    reference: UUID | None = Field(default=None, description="the recipient's person id; required by this stand-in")


class SmsAcceptedOut(BaseModel):
    id: UUID


class SmsTextOut(BaseModel):
    """A text the development stand-in received (the phone number is never kept)."""

    text: str
    received_at: datetime
