"""Request models of conversations' routes."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from conversations.domain.messages import TEXT_MAX, Language
from conversations.domain.participants import Counterpart, ObjectType
from qosym_chassis.inputs import MultilineText


class StartIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {"object_type": "enrolment", "object_id": "3f1c2a9e-5b7d-4c1e-9a2b-6d8e0f1a2b3c", "with": "provider"}
            ]
        },
    )

    object_type: ObjectType
    object_id: UUID
    with_: Counterpart = Field(
        alias="with", description="provider: the provider's staff; consultation_point: the region's operators"
    )


class MessageIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"language": "kk", "text": "Сабақ қай күні басталады?"}]}
    )

    language: Language
    text: MultilineText = Field(min_length=1, max_length=TEXT_MAX)
