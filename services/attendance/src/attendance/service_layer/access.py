"""Who is calling, and what they may see: object-level authorisation for every use case."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from qosym_chassis.callers import OVERSIGHT
from qosym_chassis.errors import Forbidden

READERS = OVERSIGHT
"""Who reads every region's records (administrators, auditors, ops)."""


@dataclass(frozen=True)
class Caller:
    subject: str
    role: str
    scope: dict[str, str] = field(default_factory=dict)

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.subject}"

    @property
    def provider_id(self) -> UUID | None:
        try:
            return (
                UUID(self.scope["provider"]) if self.role == "provider_staff" and self.scope.get("provider") else None
            )
        except ValueError:
            return None

    @property
    def operator_region(self) -> str:
        """An operator's region, for listings limited to it. Fails closed: an operator token without a region
        (which the chassis already refuses) reads nothing."""
        own = self.scope.get("region") if self.role == "operator" else None
        if not own:
            raise Forbidden("this caller reads no region")
        return own

    @property
    def district(self) -> str | None:
        """The district an operator's token is limited to (None: the whole region)."""
        return self.scope.get("district") if self.role == "operator" else None

    def owns_provider(self, provider_id: UUID) -> bool:
        return self.role == "provider_staff" and self.provider_id == provider_id

    def oversees(self, region_code: str, district_code: str | None = None, *, region_wide_read: bool = False) -> bool:
        """Administrators, auditors and ops everywhere; an operator in their region, and a district's operator in
        their district only. An object whose district is unknown (None) is a district operator's only when it is
        genuinely region-wide and merely read (``region_wide_read``): they never act on it, and an object of an
        unknown district (a risk flag) is not theirs to see."""
        if self.role in READERS:
            return True
        if self.role != "operator" or not self.scope.get("region") or self.scope.get("region") != region_code:
            return False
        district = self.district
        if district is None:
            return True
        if district_code is None:
            return region_wide_read
        return district == district_code

    def may_decide_for(self, region_code: str, district_code: str | None = None) -> bool:
        """Resolving disputes, granting late submission, announcing inspections, reviewing flags: operators of the
        region (of the object's district, when their token names one) and administrators."""
        return self.role == "administrator" or (self.role == "operator" and self.oversees(region_code, district_code))

    def sees_timesheet(self, row: dict[str, Any], guardian: bool) -> bool:
        return (
            self.owns_provider(row["provider_id"])
            or self.oversees(row["region_code"], row["district_code"])
            or (self.role == "parent" and guardian)
        )
