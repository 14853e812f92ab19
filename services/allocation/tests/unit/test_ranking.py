"""Ranking, lottery and awarding rules (pure), with Hypothesis properties."""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allocation.domain import lottery
from allocation.domain.ranking import Candidate, Category, Policy, allocate, rank, score, score_breakdown
from allocation.domain.rounds import IllegalTransition, RoundState, age_on, next_state

pytestmark = pytest.mark.unit
WEIGHTS = {"orphan": 120, "large_family": 60, "disability": 100}
REF = date(2026, 9, 1)


def test_score_sums_weights_of_categories_valid_on_the_reference_date() -> None:
    cats = [
        Category("orphan", date(2020, 1, 1), None),
        Category("large_family", date(2026, 1, 1), date(2026, 8, 31)),  # ended the day before
        Category("disability", date(2026, 9, 1), date(2027, 1, 1)),
        Category("disability", date(2019, 1, 1), None),  # counted once
        Category("unknown_code", date(2020, 1, 1), None),
    ]
    assert score(cats, WEIGHTS, REF) == 220
    assert score_breakdown(cats, WEIGHTS, REF) == [("disability", 100), ("orphan", 120), ("unknown_code", 0)]


def test_lottery_number_is_sha256_of_seed_and_public_id() -> None:
    seed = bytes(range(32))
    public_id = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert lottery.lottery_number(seed, public_id) == hashlib.sha256(seed + public_id.bytes).hexdigest()
    assert lottery.seed_sha256(seed) == hashlib.sha256(seed).hexdigest()
    assert len(lottery.new_seed()) == 32 and lottery.new_seed() != lottery.new_seed()


def test_round_states_only_move_forward() -> None:
    assert next_state(RoundState.DRAFT, "open") == RoundState.OPEN
    assert next_state(RoundState.OPEN, "close") == RoundState.CLOSED
    assert next_state(RoundState.CLOSED, "allocate") == RoundState.ALLOCATED
    for state, action in [
        (RoundState.DRAFT, "close"),
        (RoundState.OPEN, "allocate"),
        (RoundState.ALLOCATED, "open"),
        (RoundState.CLOSED, "open"),
    ]:
        with pytest.raises(IllegalTransition):
            next_state(state, action)


def test_age_in_full_years() -> None:
    assert age_on(date(2016, 9, 2), date(2026, 9, 1)) == 9
    assert age_on(date(2016, 9, 1), date(2026, 9, 1)) == 10
    assert age_on(date(2016, 2, 29), date(2026, 2, 28)) == 9


def c(key: str, district: str, direction: str, s: int, lot: str) -> Candidate:
    return Candidate(key, district, direction, s, lot)


def test_higher_score_first_then_lower_lottery_number() -> None:
    ranked = rank([c("a", "d", "x", 10, "ff"), c("b", "d", "x", 20, "99"), c("c", "d", "x", 10, "01")])
    assert [x.key for x in ranked] == ["b", "c", "a"]


def test_unused_quota_flows_to_other_districts_of_the_same_direction() -> None:
    candidates = [
        c("n1", "north", "sports", 50, "01"),
        c("n2", "north", "sports", 40, "02"),
        c("n3", "north", "sports", 30, "03"),
        c("s1", "south", "sports", 0, "04"),
        c("m1", "north", "music", 0, "05"),
    ]
    policy = Policy(
        {("north", "sports"): 1, ("south", "sports"): 2, ("north", "music"): 0}, {"sports": 10, "music": 5}, 10_000
    )
    outcome = {o.key: o for o in allocate(candidates, policy).outcomes}
    assert (outcome["n1"].via, outcome["s1"].via, outcome["n2"].via) == ("quota", "quota", "flow")
    assert not outcome["n3"].awarded and outcome["n3"].waitlist_position == 1
    # a position counts within the child's own district × direction queue, not across directions
    assert not outcome["m1"].awarded and outcome["m1"].waitlist_position == 1


def test_the_budget_is_taken_in_ranking_order() -> None:
    candidates = [c("a", "d", "x", 3, "01"), c("b", "d", "x", 2, "02"), c("c", "d", "x", 1, "03")]
    result = allocate(candidates, Policy({("d", "x"): 3}, {"x": 10}, 25))
    assert [o.key for o in result.awarded] == ["a", "b"] and result.spent == 20


cells = st.sampled_from([("north", "sports"), ("north", "music"), ("south", "sports"), ("south", "music")])


@st.composite
def rounds(draw):
    n = draw(st.integers(0, 60))
    candidates = []
    for i in range(n):
        district, direction = draw(cells)
        candidates.append(
            Candidate(
                str(i),
                district,
                direction,
                draw(st.sampled_from([0, 60, 120])),
                draw(st.binary(min_size=4, max_size=4)).hex() + f"{i:04x}",
            )
        )
    quotas = {
        cell: draw(st.integers(0, 10))
        for cell in [("north", "sports"), ("north", "music"), ("south", "sports"), ("south", "music")]
    }
    cost = {"sports": draw(st.integers(1, 50)), "music": draw(st.integers(1, 50))}
    return candidates, Policy(quotas, cost, draw(st.integers(1, 600)), draw(st.none() | st.integers(1, 30)))


@settings(max_examples=300, deadline=None)
@given(rounds())
def test_never_exceeds_quotas_budget_or_cap_and_everyone_has_one_outcome(generated) -> None:
    candidates, policy = generated
    result = allocate(candidates, policy)
    awarded = result.awarded
    assert sorted(o.key for o in result.outcomes) == sorted(x.key for x in candidates)
    by_key = {x.key: x for x in candidates}
    assert result.spent == sum(policy.cost[by_key[o.key].direction] for o in awarded) <= policy.budget
    if policy.voucher_count is not None:
        assert len(awarded) <= policy.voucher_count
    per_cell = Counter((by_key[o.key].district, by_key[o.key].direction) for o in awarded if o.via == "quota")
    assert all(n <= policy.quotas[cell] for cell, n in per_cell.items())
    per_direction = Counter(by_key[o.key].direction for o in awarded)
    totals = policy.direction_totals()
    assert all(n <= totals[d] for d, n in per_direction.items())
    queues: dict[tuple[str, str], list[int | None]] = {}
    for o in result.outcomes:  # in ranking order
        if not o.awarded:
            queues.setdefault((by_key[o.key].district, by_key[o.key].direction), []).append(o.waitlist_position)
    assert all(positions == list(range(1, len(positions) + 1)) for positions in queues.values())


@settings(max_examples=200, deadline=None)
@given(rounds(), st.randoms())
def test_deterministic_whatever_the_input_order(generated, rnd) -> None:
    candidates, policy = generated
    shuffled = list(candidates)
    rnd.shuffle(shuffled)
    assert allocate(candidates, policy).outcomes == allocate(shuffled, policy).outcomes


@settings(max_examples=200, deadline=None)
@given(rounds())
def test_within_a_cell_a_lower_ranked_child_never_gets_a_quota_place_over_a_higher_ranked_one(generated) -> None:
    candidates, policy = generated
    result = allocate(candidates, policy)
    by_key = {x.key: x for x in candidates}
    for cell in policy.quotas:
        outcomes = [o for o in result.outcomes if (by_key[o.key].district, by_key[o.key].direction) == cell]
        seen_loser = False
        for o in outcomes:  # in ranking order
            if not o.awarded:
                seen_loser = True
            elif o.via == "quota":
                assert not seen_loser
