"""HTTP models of the registry API (not the events)."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class RegisterChildIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"iin": "180905600123", "region_code": "astana", "district_code": "yesil"}]},
    )

    iin: str = Field(max_length=32, description="the child's IIN: 12 digits 0-9", examples=["180905600123"])
    region_code: str = Field(min_length=1, max_length=64, examples=["astana"])
    district_code: str = Field(min_length=1, max_length=64, examples=["yesil"])


class ChildOut(BaseModel):
    id: UUID
    iin_masked: str = Field(description="only the last four digits are ever shown", examples=["********0123"])
    birth_date: date
    sex: Literal["F", "M"]
    region_code: str
    district_code: str


class DevTokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["parent", "operator", "administrator", "provider_staff", "auditor", "partner", "ops"]
    subject: UUID | None = None


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    subject: str
