"""A timesheet's life: draft → submitted → confirmed | disputed → resolved | lapsed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Literal

from attendance.domain.rules import Tally

MarkStatus = Literal["attended", "absent", "cancelled_by_provider"]
Claim = Literal["attended", "absent", "not_held"]
Ruling = Literal["guardian_upheld", "provider_upheld"]
Outcome = Literal["guardian_upheld", "provider_upheld", "partly_upheld"]

DRAFT, SUBMITTED, CONFIRMED, DISPUTED, RESOLVED, LAPSED = (
    "draft",
    "submitted",
    "confirmed",
    "disputed",
    "resolved",
    "lapsed",
)
STATUSES = (DRAFT, SUBMITTED, CONFIRMED, DISPUTED, RESOLVED, LAPSED)
PAYABLE = (CONFIRMED, RESOLVED)
CLAIM_AS_STATUS: dict[str, MarkStatus] = {
    "attended": "attended",
    "absent": "absent",
    "not_held": "cancelled_by_provider",
}


def status_after_ruling(marked: MarkStatus, claim: Claim, ruling: Ruling) -> MarkStatus:
    return CLAIM_AS_STATUS[claim] if ruling == "guardian_upheld" else marked


def outcome_of(rulings: Iterable[Ruling]) -> Outcome:
    seen = set(rulings)
    if seen == {"guardian_upheld"}:
        return "guardian_upheld"
    if seen == {"provider_upheld"}:
        return "provider_upheld"
    return "partly_upheld"


def tally(planned: int, in_span: int, statuses: Iterable[str]) -> Tally:
    counts = Counter(statuses)
    return Tally(
        planned=planned,
        in_span=in_span,
        attended=counts["attended"],
        absent=counts["absent"],
        cancelled=counts["cancelled_by_provider"],
    )
