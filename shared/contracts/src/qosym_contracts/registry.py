"""Events published by the registry service (owned by the registry developers).

No IIN, name, phone or e-mail ever appears here: opaque ids, birth date, region codes only.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

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
