"""Events published by the registry service (owned by the registry developers).

No IIN, name, phone or e-mail ever appears here: opaque ids, birth date, region codes only.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from qosym_contracts import topics
from qosym_contracts.envelope import IntegrationEvent


class ChildRegisteredV1(IntegrationEvent):
    topic: ClassVar[str] = topics.REGISTRY_CHILD.name
    key_field: ClassVar[str] = "child_id"

    event_type: Literal["registry.ChildRegistered"] = "registry.ChildRegistered"
    event_version: Literal[1] = 1

    child_id: UUID = Field(description="opaque child id (never the IIN)")
    guardian_id: UUID = Field(description="opaque id of the guardian who registered the child")
    birth_date: date = Field(description="derived from the IIN", examples=["2016-05-14"])
    sex: Literal["F", "M"]
    region_code: str = Field(examples=["astana"])
    district_code: str = Field(examples=["yesil"])


class ChildDetailsChangedV1(IntegrationEvent):
    """A child's non-identifying details changed (region, district, or a corrected birth date/sex)."""

    topic: ClassVar[str] = topics.REGISTRY_CHILD.name
    key_field: ClassVar[str] = "child_id"

    event_type: Literal["registry.ChildDetailsChanged"] = "registry.ChildDetailsChanged"
    event_version: Literal[1] = 1

    child_id: UUID
    birth_date: date
    sex: Literal["F", "M"]
    region_code: str
    district_code: str


class GuardianshipEstablishedV1(IntegrationEvent):
    """A person became a guardian of a child: other services may now let them act for the child."""

    topic: ClassVar[str] = topics.REGISTRY_GUARDIANSHIP.name
    key_field: ClassVar[str] = "child_id"

    event_type: Literal["registry.GuardianshipEstablished"] = "registry.GuardianshipEstablished"
    event_version: Literal[1] = 1

    child_id: UUID
    guardian_id: UUID
    relation: Literal["parent", "guardian", "trustee"] = "parent"


class GuardianshipEndedV1(IntegrationEvent):
    topic: ClassVar[str] = topics.REGISTRY_GUARDIANSHIP.name
    key_field: ClassVar[str] = "child_id"

    event_type: Literal["registry.GuardianshipEnded"] = "registry.GuardianshipEnded"
    event_version: Literal[1] = 1

    child_id: UUID
    guardian_id: UUID


class VerifiedCategory(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str = Field(description="a priority category code of the child's region", examples=["large_family"])
    valid_from: date
    valid_until: date | None = Field(default=None, description="None: no end date")


class ChildCategoriesVerifiedV1(IntegrationEvent):
    """The child's complete set of verified priority categories now (an empty list clears them)."""

    topic: ClassVar[str] = topics.REGISTRY_CHILD.name
    key_field: ClassVar[str] = "child_id"

    event_type: Literal["registry.ChildCategoriesVerified"] = "registry.ChildCategoriesVerified"
    event_version: Literal[1] = 1

    child_id: UUID
    region_code: str
    categories: list[VerifiedCategory]
