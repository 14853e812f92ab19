"""Ranking and awarding as pure functions (the SQL in adapters/allocation_sql.py does the same set-based).

Score: the sum of the round's weights of the child's verified categories valid on the round's
reference date (valid_from <= reference_date <= valid_until, no end date = still valid); each
category code counts once; codes the region does not weigh count 0.

Order: score descending, then lottery number ascending (hex strings of equal length compare like
the numbers). Ties are impossible in practice (sha256).

Awarding, in two passes over the ranking (strict priority: within a pass, a lower-ranked child never
takes budget a higher-ranked child was refused):

1. quota pass: the first `quota[district][direction]` applications of each district × direction (in
   ranking order) are candidates; walking the candidates in ranking order, each is awarded while the
   running total of voucher costs stays within the budget (and the running count within the round's
   voucher cap, if any);
2. flow pass: unused quota flows to other districts of the same direction. Every application not
   awarded in pass 1 is a candidate, in ranking order, while its direction's awarded total stays below
   the direction's total quota (the sum over districts); again awarded while the running cost stays
   within what pass 1 left of the budget (and the count within the cap).

Everyone not awarded is waitlisted; the waitlist position is the place in the ranking among the
waitlisted of the child's own district × direction (1 = the next of that queue to be offered a returned voucher).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Category:
    code: str
    valid_from: date
    valid_until: date | None


def valid_codes(categories: Iterable[Category], on: date) -> list[str]:
    return sorted({c.code for c in categories if c.valid_from <= on and (c.valid_until is None or on <= c.valid_until)})


def score_breakdown(categories: Iterable[Category], weights: Mapping[str, int], on: date) -> list[tuple[str, int]]:
    return [(code, weights.get(code, 0)) for code in valid_codes(categories, on)]


def not_counted(categories: Iterable[Category], weights: Mapping[str, int], on: date) -> list[tuple[str, str]]:
    """The verified categories that add nothing on ``on``, each with why: ``expired`` (ended before it),
    ``not_yet_valid`` (starts after it), ``not_weighted`` (the round gives it no weight)."""
    counted = set(valid_codes(categories, on))
    why: dict[str, str] = {}
    for c in categories:
        if c.code in counted:
            continue
        if c.valid_until is not None and c.valid_until < on:
            why.setdefault(c.code, "expired")
        elif c.valid_from > on:
            why.setdefault(c.code, "not_yet_valid")
    why.update({code: "not_weighted" for code in counted if weights.get(code, 0) == 0})
    return sorted(why.items())


def score(categories: Iterable[Category], weights: Mapping[str, int], on: date) -> int:
    return sum(weight for _, weight in score_breakdown(categories, weights, on))


@dataclass(frozen=True)
class Candidate:
    key: str
    district: str
    direction: str
    score: int
    lottery: str


@dataclass(frozen=True)
class Policy:
    quotas: Mapping[tuple[str, str], int]  # (district, direction) -> vouchers
    cost: Mapping[str, int]  # direction -> tiyn per voucher
    budget: int
    voucher_count: int | None = None

    def direction_totals(self) -> Counter[str]:
        totals: Counter[str] = Counter()
        for (_, direction), quota in self.quotas.items():
            totals[direction] += quota
        return totals


@dataclass(frozen=True)
class Outcome:
    key: str
    rank: int
    awarded: bool
    via: str | None  # "quota" | "flow" | None
    waitlist_position: int | None


@dataclass
class Allocation:
    outcomes: list[Outcome] = field(default_factory=list)
    spent: int = 0

    @property
    def awarded(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.awarded]


def rank(candidates: Iterable[Candidate]) -> list[Candidate]:
    return sorted(candidates, key=lambda c: (-c.score, c.lottery))


def allocate(candidates: Iterable[Candidate], policy: Policy) -> Allocation:
    ranked = rank(candidates)
    cap = policy.voucher_count
    via: dict[str, str] = {}
    spent = 0
    count = 0

    # pass 1: within each district × direction quota
    seen: Counter[tuple[str, str]] = Counter()
    pass1: list[Candidate] = []
    for c in ranked:
        cell = (c.district, c.direction)
        seen[cell] += 1
        if seen[cell] <= policy.quotas.get(cell, 0):
            pass1.append(c)
    running = 0
    for n, c in enumerate(pass1, start=1):
        running += policy.cost[c.direction]
        if running <= policy.budget and (cap is None or n <= cap):
            via[c.key] = "quota"
            spent += policy.cost[c.direction]
            count += 1

    # pass 2: unused quota flows to other districts of the same direction
    left_in_direction = policy.direction_totals()
    for c in ranked:
        if c.key in via:
            left_in_direction[c.direction] -= 1
    taken: Counter[str] = Counter()
    pass2: list[Candidate] = []
    for c in ranked:
        if c.key in via:
            continue
        taken[c.direction] += 1
        if taken[c.direction] <= left_in_direction[c.direction]:
            pass2.append(c)
    running = 0
    remaining_budget = policy.budget - spent
    for n, c in enumerate(pass2, start=1):
        running += policy.cost[c.direction]
        if running <= remaining_budget and (cap is None or count + n <= cap):
            via[c.key] = "flow"
    spent += sum(policy.cost[c.direction] for c in pass2 if via.get(c.key) == "flow")

    result = Allocation(spent=spent)
    position: Counter[tuple[str, str]] = Counter()
    for r, c in enumerate(ranked, start=1):
        if c.key in via:
            result.outcomes.append(Outcome(c.key, r, True, via[c.key], None))
        else:
            position[(c.district, c.direction)] += 1
            result.outcomes.append(Outcome(c.key, r, False, None, position[(c.district, c.direction)]))
    return result


def cutoffs(ranked: Sequence[Candidate], allocation: Allocation) -> dict[tuple[str, str], Candidate]:
    """The lowest-ranked awarded application of each district × direction."""
    awarded = {o.key for o in allocation.outcomes if o.awarded}
    last: dict[tuple[str, str], Candidate] = {}
    for c in ranked:
        if c.key in awarded:
            last[(c.district, c.direction)] = c
    return last
