"""The allocation run of a closed round: rank and award once, publish the ranked list, and what-if simulations
(docs/architecture.md, "Service anatomy")."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from allocation.adapters import award_repository, region_repository, round_queries, round_repository
from allocation.domain import ranking
from allocation.domain.rounds import RoundState, check_what_if
from allocation.service_layer.dependencies import Dependencies
from allocation.service_layer.rounds import find_round, move
from allocation.service_layer.views import AllocationSummary, PublishedEntry, PublishedList, Simulation
from qosym_chassis.errors import Conflict, FieldError


async def allocate_round(deps: Dependencies, round_id: UUID) -> AllocationSummary:
    """Rank and award once. A second (or concurrent) call waits for the row lock and returns the same result."""
    async with deps.sessions() as session, session.begin():
        current = await find_round(session, round_id, lock=True)
        if current.state == RoundState.ALLOCATED and current.result is not None:
            return AllocationSummary.model_validate(current.result)
        now = deps.clock.now()
        await move(session, current, "allocate", now)
        result = await award_repository.allocate(session, current, deps.clock.today(), now)
        await round_repository.save_result(session, round_id, result)
    return AllocationSummary.model_validate(result)


async def published_list(deps: Dependencies, round_id: UUID) -> PublishedList:
    """The ranked list without personal data, and the seed: anyone can re-run the lottery."""
    async with deps.sessions() as session:
        r = await find_round(session, round_id)
        if r.state != RoundState.ALLOCATED:
            raise Conflict("the ranked list is published once the round is allocated")
        entries = await round_queries.published_list(session, round_id)
    return PublishedList(
        round_id=r.round_id,
        region_code=r.region_code,
        seed_sha256=r.seed_sha256,
        seed_hex=r.seed.hex(),
        budget_tiyn=r.budget_tiyn,
        voucher_count=r.voucher_count,
        voucher_cost_tiyn={d: r.policy.cost(d) for d in r.policy.monthly_value_tiyn},
        quotas=r.quotas,
        entries=[
            PublishedEntry(
                public_id=e["public_id"],
                rank=e["rank"],
                score=e["score"],
                lottery_number=e["lottery"],
                district_code=e["district_code"],
                direction=e["direction"],
                outcome=e["outcome_now"],
                via=e["allocated_via"],
                waitlist_position=e["position_now"],
                allocated_outcome=e["allocated_outcome"],
                allocated_waitlist_position=e["waitlist_position"],
            )
            for e in entries
        ],
    )


async def simulate(
    deps: Dependencies,
    round_id: UUID,
    weights: dict[str, int] | None,
    quotas: dict[str, dict[str, int]] | None,
) -> Simulation:
    """Rank and award again with changed weights and/or quotas, in memory; nothing is stored."""
    async with deps.sessions() as session:
        current = await find_round(session, round_id)
        region = await region_repository.get_region(session, current.region_code)
        assert region is not None  # a round is created only in a known region, and regions are never deleted
        problem = check_what_if(weights, quotas, current.policy, region.config)
        if problem:
            raise FieldError(*problem)
        if current.state != RoundState.ALLOCATED:
            raise Conflict("simulate compares against an allocated round")
        rows = await round_queries.candidates(session, round_id)
    new_weights = {**current.policy.weights, **(weights or {})}
    new_quotas = quotas if quotas is not None else current.quotas
    cost = {d: current.policy.cost(d) for d in current.policy.monthly_value_tiyn}
    cats: dict[str, list[ranking.Category]] = {}
    candidates = []
    for r in rows:
        key = str(r["application_id"])
        cats[key] = [
            ranking.Category(c, date.fromisoformat(f), date.fromisoformat(u) if u else None)
            for c, f, u in r["categories"]
        ]
        candidates.append(
            ranking.Candidate(
                key,
                r["district_code"],
                r["direction"],
                ranking.score(cats[key], new_weights, current.reference_date),
                r["lottery"],
            )
        )
    policy = ranking.Policy(
        {(district, d): q for district, cells in new_quotas.items() for d, q in cells.items()},
        cost,
        current.budget_tiyn,
        current.voucher_count,
    )
    result = ranking.allocate(candidates, policy)
    after = {o.key for o in result.awarded}
    before = {str(r["application_id"]) for r in rows if r["allocated_outcome"] == "awarded"}
    by_key = {c.key: c for c in candidates}
    per_district: dict[str, dict[str, int]] = {}
    per_category: dict[str, dict[str, int]] = {}
    for key in after ^ before:
        change = "gain" if key in after else "lose"
        c = by_key[key]
        per_district.setdefault(c.district, {"gain": 0, "lose": 0})[change] += 1
        for code in ranking.valid_codes(cats[key], current.reference_date) or ["none"]:
            per_category.setdefault(code, {"gain": 0, "lose": 0})[change] += 1
    return Simulation(
        round_id=round_id,
        applications=len(rows),
        awarded_now=len(before),
        awarded_simulated=len(after),
        spent_simulated_tiyn=result.spent,
        gain=len(after - before),
        lose=len(before - after),
        by_district=per_district,
        by_category=per_category,
    )
