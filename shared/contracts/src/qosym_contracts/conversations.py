"""Events published by the conversations service (owned by the conversations developers).

A thread is attached to one object (an application, an enrolment, a timesheet month or a dispute) and is held
between the child's guardians and one counterpart: the provider's staff, or the consultation point (the operators
of the object's region). No message text, file or name ever travels here: ids only; whoever is told reads the
message through the conversations API, which checks that they take part in the thread.
"""

from __future__ import annotations

from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from qosym_contracts import topics
from qosym_contracts.envelope import IntegrationEvent
from qosym_contracts.types import DistrictCode, RegionCode

ObjectType = Literal["application", "enrolment", "timesheet", "dispute"]
Counterpart = Literal["provider", "consultation_point"]
AuthorRole = Literal["guardian", "provider_staff", "operator"]


class MessagePostedV1(IntegrationEvent):
    """A message was posted in a thread: tell its other side (ids only, never the text)."""

    topic: ClassVar[str] = topics.CONVERSATIONS_MESSAGE.name
    key_field: ClassVar[str] = "thread_id"

    event_type: Literal["conversations.MessagePosted"] = "conversations.MessagePosted"
    event_version: Literal[1] = 1

    thread_id: UUID
    message_id: UUID
    object_type: ObjectType
    object_id: UUID
    counterpart: Counterpart = Field(description="who the guardians talk to in this thread")
    author_role: AuthorRole
    author_id: UUID | None = Field(default=None, description="the author's person id (a guardian's or staff's)")
    recipient_guardian_ids: list[UUID] = Field(
        default_factory=list, description="the child's guardians to tell (empty when a guardian wrote)"
    )
    recipient_provider_id: UUID | None = Field(
        default=None, description="the provider whose staff to tell (a guardian wrote in a provider thread)"
    )
    recipient_region_code: RegionCode | None = Field(
        default=None, description="the region whose operators to tell (a guardian wrote to the consultation point)"
    )
    recipient_district_code: DistrictCode | None = None
