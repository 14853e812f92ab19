"""Request models of conversations' routes."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from conversations.domain.messages import TEXT_MAX, Language
from conversations.domain.participants import Counterpart, ObjectType
from qosym_chassis.inputs import MultilineText


class StartIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    object_type: ObjectType
    object_id: UUID
    with_: Counterpart = Field(
        alias="with", description="provider: the provider's staff; consultation_point: the region's operators"
    )


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: Language
    text: MultilineText = Field(min_length=1, max_length=TEXT_MAX)
