"""Priority-category claims: declared by a guardian, verified or rejected once by an operator, amended on purpose.

Only verified categories count; the validity rules (start, end, order) live here.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from registry.domain.errors import Refused, RegistrationRefused
from registry.domain.model import RegionRules

DECLARED, VERIFIED, REJECTED = "declared", "verified", "rejected"


@dataclass(frozen=True)
class Claim:
    id: UUID
    child_id: UUID
    code: str
    status: str
    valid_from: date | None
    valid_until: date | None
    decided_by: str | None
    reason: str | None
    declared_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True)
class ScopedClaim(Claim):
    """A claim with its child's region and district (who may decide it)."""

    region_code: str
    district_code: str


@dataclass(frozen=True)
class QueuedClaim(ScopedClaim):
    """A claim waiting in the review queue, with its child's IIN masked (the last four digits), so the operator
    finds the family's documents."""

    child_iin_masked: str


@dataclass(frozen=True)
class Decision:
    """What a decision or an amendment writes on the claim."""

    status: str
    valid_from: date | None
    valid_until: date | None
    decided_by: str
    decided_at: datetime
    reason: str | None


def check_declarable(code: str, region: RegionRules | None) -> None:
    if region is None or code not in region.category_codes:
        raise RegistrationRefused("code", "unknown_category", "not a priority category of the child's region")


def check_validity(valid_from: date, valid_until: date | None) -> None:
    if valid_until is not None and valid_until < valid_from:
        raise RegistrationRefused("valid_until", "before_valid_from", "valid_until is before valid_from")


def decide(
    claim_id: UUID,
    status: str,
    *,
    verified: bool,
    decided_by: str,
    now: datetime,
    valid_from: date | None = None,
    valid_until: date | None = None,
    reason: str | None = None,
) -> Decision:
    """The one decision on a declared claim: a verified one is valid from ``valid_from`` (today when absent) until
    ``valid_until``; a rejected one has no validity. A second decision is refused."""
    if status != DECLARED:
        raise Refused(
            f"this claim is already {status}: a second decision is refused; change a verified claim's "
            f"validity with POST /v1/categories/{claim_id}/amend"
        )
    start = valid_from or now.date()
    if verified:
        check_validity(start, valid_until)
    return Decision(
        status=VERIFIED if verified else REJECTED,
        valid_from=start if verified else None,
        valid_until=valid_until if verified else None,
        decided_by=decided_by,
        decided_at=now,
        reason=reason,
    )


def amend(
    status: str,
    current_from: date | None,
    *,
    decided_by: str,
    now: datetime,
    valid_from: date | None,
    valid_until: date | None,
    reason: str,
) -> Decision:
    """A verified claim's validity changed on purpose: a null start keeps the current one (today when it has none),
    a null end means none."""
    if status != VERIFIED:
        raise Refused(f"only a verified claim is amended; this one is {status}")
    start = valid_from or current_from or now.date()
    check_validity(start, valid_until)
    return Decision(VERIFIED, start, valid_until, decided_by, now, reason)


def verified_codes(claims: Collection[tuple[str, str]]) -> list[str]:
    """The codes of the verified claims among (code, status) pairs, sorted: what the child's published set holds."""
    return sorted(code for code, status in claims if status == VERIFIED)
