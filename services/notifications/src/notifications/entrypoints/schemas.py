"""HTTP models of the notifications API."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field, computed_field

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
