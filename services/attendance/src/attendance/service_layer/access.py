"""Who is calling, and what they may see: object-level authorisation for every use case."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from qosym_chassis.errors import Forbidden

READERS = ("administrator", "auditor", "ops")


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

    def owns_provider(self, provider_id: UUID) -> bool:
        return self.role == "provider_staff" and self.provider_id == provider_id

    def oversees(self, region_code: str, district_code: str | None = None) -> bool:
        """Administrators, auditors and ops everywhere; an operator in their region (and district, if scoped)."""
        if self.role in READERS:
            return True
        if self.role != "operator" or not self.scope.get("region") or self.scope.get("region") != region_code:
            return False
        district = self.scope.get("district")
        return district is None or district_code is None or district == district_code

    def may_decide_for(self, region_code: str, district_code: str | None = None) -> bool:
        """Resolving disputes, granting late submission: operators of the region and administrators."""
        return self.role == "administrator" or (self.role == "operator" and self.oversees(region_code, district_code))

    def sees_timesheet(self, row: dict[str, Any], guardian: bool) -> bool:
        return (
            self.owns_provider(row["provider_id"])
            or self.oversees(row["region_code"], row["district_code"])
            or (self.role == "parent" and guardian)
        )
