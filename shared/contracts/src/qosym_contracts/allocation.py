"""Events published by the allocation service (owned by the allocation developers)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from qosym_contracts import topics
from qosym_contracts.envelope import IntegrationEvent


class LocalisedName(BaseModel):
    model_config = ConfigDict(frozen=True)

    en: str
    kk: str
    ru: str


class District(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    name: LocalisedName


class ConsultationPoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    address: str
    district: str
    opening_days: list[str] = Field(default_factory=lambda: ["saturday", "sunday"])


class RegionConfiguredV1(IntegrationEvent):
    """The whole current configuration of a region (event-carried state transfer)."""

    topic: ClassVar[str] = topics.ALLOCATION_REGION.name
    key_field: ClassVar[str] = "region_code"

    event_type: Literal["allocation.RegionConfigured"] = "allocation.RegionConfigured"
    event_version: Literal[1] = 1

    region_code: str = Field(examples=["astana"])
    revision: int = Field(description="increases by one with every change of the region", ge=1)
    name: LocalisedName
    timezone: str = Field(examples=["Asia/Almaty"])
    districts: list[District]
    consultation_points: list[ConsultationPoint]
    directions: list[str] = Field(examples=[["sports", "creativity", "intellectual"]])
    child_age_min: int
    child_age_max: int
    voucher_monthly_value_tiyn: dict[str, int] = Field(description="per direction, integer tiyn")
    voucher_months: int
    priority_weights: dict[str, int]
    budget_tiyn: int
    direction_quotas: dict[str, float] = Field(description="share of a round's vouchers per direction")
