"""Registry domain: children and the rules for registering one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from qosym_chassis.iin import Iin, age_on
from registry.domain.errors import RegistrationRefused


@dataclass(frozen=True)
class RegionRules:
    code: str
    districts: frozenset[str]
    child_age_min: int
    child_age_max: int
    category_codes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Child:
    id: UUID
    guardian_id: UUID
    birth_date: date
    sex: str
    iin_last4: str
    region_code: str
    district_code: str
    flags: tuple[str, ...] = ()
    name: str | None = None


def check_registration(iin: Iin, region: RegionRules | None, district_code: str, today: date) -> None:
    check_place(iin.birth_date, region, district_code, today, age_field="iin")


def check_place(
    birth_date: date, region: RegionRules | None, district_code: str, today: date, *, age_field: str = "region_code"
) -> None:
    """A child may live in this region and district: the region runs the programme for the child's age."""
    if region is None:
        raise RegistrationRefused("region_code", "unknown_region", "this region does not run the programme")
    if district_code not in region.districts:
        raise RegistrationRefused("district_code", "unknown_district", "no such district in this region")
    age = age_on(birth_date, today)
    if not region.child_age_min <= age <= region.child_age_max:
        raise RegistrationRefused(
            age_field,
            "age_out_of_band",
            f"the child is {age}; the region serves children aged {region.child_age_min}-{region.child_age_max}",
        )


@dataclass(frozen=True)
class Person:
    id: UUID
    birth_date: date
    sex: str
    iin_last4: str
    phone: str | None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class OperatorScope:
    """Where a staff member may act: an operator a region and, when the token names one, a single district of it;
    an administrator (``everywhere``) every region. Fails closed: an operator scope without a region covers nothing."""

    region: str | None = None
    district: str | None = None
    everywhere: bool = False

    @property
    def limited(self) -> bool:
        return not self.everywhere

    def covers_region(self, region_code: str | None) -> bool:
        return self.everywhere or (bool(self.region) and region_code == self.region)

    def covers(self, region_code: str | None, district_code: str | None) -> bool:
        return self.covers_region(region_code) and (
            self.everywhere or not self.district or district_code == self.district
        )


@dataclass(frozen=True)
class Flagged:
    """A record in the review queue: declared data that disagrees with its IIN."""

    entity: str
    id: UUID
    flags: list[str]
    region_code: str | None
