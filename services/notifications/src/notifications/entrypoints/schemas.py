"""HTTP models of the notifications API."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, computed_field

from notifications.domain.messages import title_for


class MessageOut(BaseModel):
    id: UUID
    kind: str = Field(examples=["child_registered"])
    subject_id: UUID = Field(description="what the message is about, e.g. the child's opaque id")
    payload: dict[str, Any] = Field(examples=[{"child_id": "…", "region_code": "astana", "district_code": "yesil"}])
    created_at: datetime
    read_at: datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def title(self) -> str:
        return title_for(self.kind)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def body(self) -> str | None:
        """The text of an `sms` message; None for the others."""
        text = self.payload.get("text")
        return text if isinstance(text, str) else None


class SmsIn(BaseModel):
    """The SMS gateway contract the registry speaks, plus the recipient's opaque person id as `reference`."""

    model_config = ConfigDict(extra="ignore")

    to: str = Field(max_length=32, examples=["+77011234567"], description="not stored: the inbox stands in for it")
    text: str = Field(min_length=1, max_length=1000)
    reference: UUID | None = Field(default=None, description="the recipient's person id; required by this stand-in")


class SmsAcceptedOut(BaseModel):
    id: UUID
