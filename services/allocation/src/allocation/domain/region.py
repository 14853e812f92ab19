"""A region's configuration as data: districts, age band, vouchers, weights, quotas, budget.

Added and changed with `qosym region apply FILE.yaml` or PUT /v1/regions/{code}; never in code.
Money is integer tiyn; quotas are shares of a round's vouchers per direction and add up to 1.
"""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, field_validator, model_validator
from pydantic.config import JsonDict

from qosym_chassis.identifiers import compact_bic, compact_iban, valid_bic, valid_iban
from qosym_chassis.inputs import SafeText
from qosym_contracts.types import REGION_CODE_PATTERN, DistrictCode, RegionCode

Code = Annotated[str, Field(pattern=REGION_CODE_PATTERN)]  # a direction or category code, spelled like a region code
Tiyn = Annotated[StrictInt, Field(gt=0, le=10**15)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalisedName(Strict):
    en: SafeText = Field(min_length=1, max_length=200)
    kk: SafeText = Field(min_length=1, max_length=200)
    ru: SafeText = Field(min_length=1, max_length=200)


class District(Strict):
    code: DistrictCode
    name: LocalisedName
    # children of the region's child age living in the district (optional; insights' coverage per 1,000 children)
    child_population: StrictInt | None = Field(default=None, ge=0, le=10**8)


class ConsultationPoint(Strict):
    name: SafeText = Field(min_length=1, max_length=200)
    address: SafeText = Field(min_length=1, max_length=300)
    district: DistrictCode
    opening_days: list[SafeText] = Field(default_factory=lambda: ["saturday", "sunday"])


class AgeBand(Strict):
    min: StrictInt = Field(ge=0, le=25)
    max: StrictInt = Field(ge=0, le=25)

    @model_validator(mode="after")
    def _ordered(self) -> AgeBand:
        if self.min > self.max:
            raise ValueError("min must not exceed max")
        return self


def _iban(value: str) -> str:
    if compact_iban(value) != value or not valid_iban(value):
        raise ValueError("not a valid IBAN (ISO 13616, compact form: upper case, no spaces)")
    return value


def _bic(value: str) -> str:
    if compact_bic(value) != value or not valid_bic(value):
        raise ValueError("not a valid BIC (ISO 9362, 8 or 11 characters)")
    return value


class TreasuryAccount(Strict):
    """The region's paying account: the debtor of its payment orders (payments projects it from RegionConfigured)."""

    name: Annotated[SafeText, Field(min_length=1, max_length=140)]
    iban: Annotated[str, AfterValidator(_iban)]
    bic: Annotated[str, AfterValidator(_bic)]


class VoucherTerms(Strict):
    monthly_value: dict[Code, Tiyn]
    months: StrictInt = Field(ge=1, le=12)


EXAMPLE_REGION: JsonDict = {
    "code": "astana",
    "name": {"en": "Astana", "kk": "Астана", "ru": "Астана"},
    "timezone": "Asia/Almaty",
    "districts": [
        {"code": "yesil", "name": {"en": "Yesil district", "kk": "Есіл ауданы", "ru": "район Есиль"}},
        {"code": "nura", "name": {"en": "Nura district", "kk": "Нұра ауданы", "ru": "район Нура"}},
    ],
    "consultation_points": [{"name": "Art School No. 2", "address": "Dostyk St., 13", "district": "yesil"}],
    "directions": ["sports", "creativity"],
    "child_age": {"min": 4, "max": 18},
    "voucher": {"monthly_value": {"sports": 1500000, "creativity": 1200000}, "months": 9},
    "priority_weights": {"orphan": 120, "large_family": 60},
    "budget_tiyn": 250000000000,
    "quotas": {"sports": 0.6, "creativity": 0.4},
}


class RegionConfig(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"examples": [EXAMPLE_REGION]})

    code: RegionCode
    name: LocalisedName
    timezone: SafeText
    districts: list[District] = Field(min_length=1)
    consultation_points: list[ConsultationPoint] = Field(default_factory=list)
    directions: list[Code] = Field(min_length=1)
    child_age: AgeBand
    voucher: VoucherTerms
    priority_weights: dict[Code, Annotated[StrictInt, Field(ge=0, le=1000)]]
    budget_tiyn: Tiyn
    quotas: dict[Code, Annotated[float, Field(ge=0, le=1)]]
    treasury_account: TreasuryAccount | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> RegionConfig:
        district_codes = [d.code for d in self.districts]
        if len(set(district_codes)) != len(district_codes):
            raise ValueError("district codes must be unique")
        if len(set(self.directions)) != len(self.directions):
            raise ValueError("directions must be unique")
        for point in self.consultation_points:
            if point.district not in district_codes:
                raise ValueError(f"consultation point {point.name!r} names an unknown district {point.district!r}")
        if set(self.voucher.monthly_value) != set(self.directions):
            raise ValueError("voucher.monthly_value needs exactly one value per direction")
        if set(self.quotas) != set(self.directions):
            raise ValueError("quotas need exactly one share per direction")
        if abs(sum(self.quotas.values()) - 1.0) > 1e-9:
            raise ValueError("quotas must add up to 1")
        return self
