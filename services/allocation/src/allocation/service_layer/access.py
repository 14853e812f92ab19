"""Who is calling, and what they may read: the one place allocation decides object-level access.

- **Administrators** and **auditors** read every region (region-unscoped by design; auditors only read, and every
  write route of allocation is for administrators or the child's guardian).
- An **operator** reads only the region of their token's scope, and only its district when the scope names one:
  a child by the child projection's region and district, an application by its round's region and its district.
  An operator whose scope names no region reads nothing (the chassis already refuses such a token).
- A **parent** reads their children (an active guardianship) and their applications and vouchers.

An object the caller may not read is answered exactly like a missing one (404).
"""

from __future__ import annotations

from dataclasses import dataclass

from qosym_chassis.auth import Principal
from qosym_chassis.callers import ADMINISTRATORS, AUDITORS, OPERATORS, RECORD_READERS, roles
from qosym_chassis.errors import Forbidden

READERS = RECORD_READERS  # staff who read children, applications and vouchers (whose: :meth:`Caller.serves`)
EVERYWHERE = roles(ADMINISTRATORS, AUDITORS)  # staff who read every region


@dataclass(frozen=True)
class Caller:
    subject: str
    role: str
    region: str | None = None
    district: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> Caller:
        return cls(
            subject=principal.subject,
            role=principal.role,
            region=principal.scope.get("region"),
            district=principal.scope.get("district"),
        )

    @property
    def reader(self) -> bool:
        """Staff who may read some children's data at all (whose, :meth:`serves` decides)."""
        return self.role in READERS

    def serves(self, region_code: str | None, district_code: str | None) -> bool:
        if self.role in EVERYWHERE:
            return True
        if self.role not in OPERATORS or not self.region or region_code != self.region:
            return False
        return self.district is None or district_code == self.district

    def children_scope(self, region_code: str | None) -> tuple[str | None, str | None]:
        """The (region, district) a children listing is limited to; another region than the operator's is 403."""
        if self.role in EVERYWHERE:
            return region_code, None
        if self.role not in OPERATORS or not self.region:
            raise Forbidden("this caller reads no region's children")
        if region_code is not None and region_code != self.region:
            raise Forbidden("outside this operator's region")
        return self.region, self.district
