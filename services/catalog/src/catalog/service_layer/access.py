"""Who is calling, and what they may see or change: the one place catalog decides object-level access.

- An **administrator** reaches every region (administrators are region-unscoped by design; a region in an
  administrator's token does not restrict them here).
- An **operator** reaches only the region of their token's scope, and only its district when the scope names one.
  The object's own place decides: a provider's region and district, a programme's, an enrolment's programme's or
  child's, a child's (from registry's projection), a complaint's. An operator whose scope names no region reaches
  nothing (the chassis already refuses such a token; this is the second lock).
- **Provider staff** reach their own provider (``scope.provider``) and its programmes and enrolments.
- A **parent** reaches their children (an active guardianship) and the complaints they filed.
- Auditors, ops and partners reach none of catalog's staff routes (auditors never write).

Every use case asks one of these questions; an object the caller may not reach is answered exactly like a missing
one (404), so nobody learns what exists in another region.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from catalog.domain.reach import EVERYWHERE, NOWHERE, Reach
from qosym_chassis.auth import Principal


@dataclass(frozen=True)
class Caller:
    subject: str
    role: str
    provider_id: UUID | None = None
    region: str | None = None  # an operator's scope; an operator without one reaches nothing
    district: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> Caller:
        raw = principal.scope.get("provider")
        try:
            provider_id = UUID(raw) if raw else None
        except ValueError:
            provider_id = None
        return cls(
            subject=principal.subject,
            role=principal.role,
            provider_id=provider_id,
            region=principal.scope.get("region"),
            district=principal.scope.get("district"),
        )

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.subject}"

    @property
    def reach(self) -> Reach:
        """An administrator reaches everywhere; an operator the region (and district) of their scope; others no
        place (what listings filter by)."""
        if self.role == "administrator":
            return EVERYWHERE
        if self.role != "operator" or not self.region:
            return NOWHERE
        return Reach(region=self.region, district=self.district)

    def serves(self, region_code: str | None, district_code: str | None) -> bool:
        """An administrator serves everywhere; an operator the region (and district) of their scope, nothing else."""
        return self.reach.covers(region_code, district_code)

    def in_region(self, region_code: str | None) -> bool:
        """An administrator: any region; an operator: their scope's region (whatever the district)."""
        if self.role == "administrator":
            return True
        return self.role == "operator" and bool(self.region) and region_code == self.region

    def owns(self, provider_id: UUID) -> bool:
        return self.role == "provider_staff" and self.provider_id == provider_id

    def manages_provider(self, row: Mapping[str, Any]) -> bool:
        """Its own staff, an operator of its region (and district), an administrator: staff, facilities,
        attestations, programmes, enrolments, bank details and contacts."""
        return self.owns(row["id"]) or self.serves(row["region_code"], row["district_code"])

    def manages_programme(self, row: Mapping[str, Any]) -> bool:
        """Change or close: the provider's staff, an operator of the programme's region (and district)."""
        return self.owns(row["provider_id"]) or self.serves(row["region_code"], row["district_code"])

    def serves_child(self, child: Mapping[str, Any] | None) -> bool:
        """An operator acts for a child of their region (and district); an administrator for any known child."""
        return child is not None and self.serves(child["region_code"], child["district_code"])

    def sees_enrolment(self, row: Mapping[str, Any], child: Mapping[str, Any] | None, *, guardian: bool) -> bool:
        """The child's guardian, the provider's staff, an operator serving the programme's place or the child's."""
        if self.role == "parent":
            return guardian
        return (
            self.owns(row["provider_id"])
            or self.serves(row["programme_region_code"], row["programme_district_code"])
            or self.serves_child(child)
        )
