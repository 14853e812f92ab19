"""SQL for the round aggregate: the round row, its quotas and its state transitions (docs/architecture.md,
"Service anatomy").

Counters are guarded by CHECK constraints (spent <= budget, awarded <= quota) and changed by single conditional
statements, so nothing can exceed a quota or the budget even if two transactions race.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import RowMapping, text
from sqlalchemy.ext.asyncio import AsyncSession

from allocation.domain.rounds import RoundDraft, RoundPolicy, RoundState


@dataclass(frozen=True)
class RoundRow:
    round_id: UUID
    region_code: str
    name: str
    state: RoundState
    budget_tiyn: int
    spent_tiyn: int
    voucher_count: int | None
    awarded_count: int
    application_opens_at: datetime
    application_closes_at: datetime
    reference_date: date
    voucher_valid_until: date
    assignment_deadline_days: int
    release_grace_days: int
    policy: RoundPolicy
    seed: bytes
    seed_sha256: str
    result: dict[str, Any] | None
    quotas: dict[str, dict[str, int]]


ROUND_COLUMNS = """round_id, region_code, name, state, budget_tiyn, spent_tiyn, voucher_count, awarded_count,
    application_opens_at, application_closes_at, reference_date, voucher_valid_until, assignment_deadline_days,
    release_grace_days, policy, seed, seed_sha256, result"""


async def insert_round(
    session: AsyncSession, round_id: UUID, draft: RoundDraft, policy: RoundPolicy, seed: bytes, digest: str, actor: str
) -> None:
    await session.execute(
        text(
            """INSERT INTO round (round_id, region_code, name, budget_tiyn, voucher_count, application_opens_at,
                application_closes_at, reference_date, voucher_valid_until, assignment_deadline_days,
                release_grace_days, policy, seed, seed_sha256, created_by)
               VALUES (:id, :region, :name, :budget, :count, :opens, :closes, :ref, :until, :deadline, :grace,
                CAST(:policy AS jsonb), :seed, :digest, :actor)"""
        ),
        {
            "id": round_id,
            "region": draft.region_code,
            "name": draft.name,
            "budget": draft.budget_tiyn,
            "count": draft.voucher_count,
            "opens": draft.application_opens_at,
            "closes": draft.application_closes_at,
            "ref": draft.reference_date,
            "until": draft.voucher_valid_until,
            "deadline": draft.assignment_deadline_days,
            "grace": draft.release_grace_days,
            "policy": policy.model_dump_json(),
            "seed": seed,
            "digest": digest,
            "actor": actor,
        },
    )
    cells = [
        {"id": round_id, "district": district, "direction": direction, "quota": quota}
        for district, row in draft.quotas.items()
        for direction, quota in row.items()
    ]
    await session.execute(
        text(
            "INSERT INTO round_quota (round_id, district_code, direction, quota) VALUES (:id, :district, :direction, :quota)"
        ),
        cells,
    )
    totals: dict[str, int] = {}
    for row in draft.quotas.values():
        for direction, quota in row.items():
            totals[direction] = totals.get(direction, 0) + quota
    await session.execute(
        text(
            "INSERT INTO round_direction (round_id, direction, quota, cost_tiyn) VALUES (:id, :direction, :quota, :cost)"
        ),
        [{"id": round_id, "direction": d, "quota": q, "cost": policy.cost(d)} for d, q in totals.items()],
    )


def _round(row: RowMapping, quotas: dict[str, dict[str, int]]) -> RoundRow:
    values = dict(row)
    values["state"] = RoundState(values["state"])
    values["policy"] = RoundPolicy.model_validate(values["policy"])
    values["seed"] = bytes(values["seed"])
    return RoundRow(**values, quotas=quotas)


async def get_round(
    session: AsyncSession, round_id: UUID, *, lock: bool = False, share: bool = False
) -> RoundRow | None:
    """lock: FOR UPDATE (state changes); share: FOR SHARE (applications: many at once, never across a close)."""
    suffix = " FOR UPDATE" if lock else " FOR SHARE" if share else ""
    sql = f"SELECT {ROUND_COLUMNS} FROM round WHERE round_id = :id" + suffix
    row = (await session.execute(text(sql), {"id": round_id})).mappings().first()
    if row is None:
        return None
    quotas: dict[str, dict[str, int]] = {}
    for q in (
        await session.execute(
            text("SELECT district_code, direction, quota FROM round_quota WHERE round_id = :id ORDER BY 1, 2"),
            {"id": round_id},
        )
    ).all():
        quotas.setdefault(q[0], {})[q[1]] = q[2]
    return _round(row, quotas)


async def move_state(
    session: AsyncSession, round_id: UUID, source: RoundState, target: RoundState, at: datetime
) -> bool:
    """Conditional single-statement transition stamped ``at`` (the service clock): False if the round was not in
    `source`."""
    stamp = {"open": "opened_at", "closed": "closed_at", "allocated": "allocated_at"}[target.value]
    row = await session.execute(
        text(
            f"UPDATE round SET state = :target, {stamp} = :at WHERE round_id = :id AND state = :source RETURNING round_id"
        ),
        {"id": round_id, "source": source.value, "target": target.value, "at": at},
    )
    return row.first() is not None


async def record_close(
    session: AsyncSession, round_id: UUID, actor: str, early_reason: str | None, early_note: str | None
) -> None:
    """Who closed the round and, when it closed before its announced end, why (allocation's own record)."""
    await session.execute(
        text(
            """UPDATE round SET closed_by = :actor, early_close_reason = :reason, early_close_note = :note
               WHERE round_id = :id"""
        ),
        {"id": round_id, "actor": actor, "reason": early_reason, "note": early_note},
    )


async def save_result(session: AsyncSession, round_id: UUID, result: dict[str, Any]) -> None:
    await session.execute(
        text("UPDATE round SET result = CAST(:result AS jsonb) WHERE round_id = :id"),
        {"id": round_id, "result": json.dumps(result)},
    )


async def count_applications(session: AsyncSession, round_id: UUID) -> int:
    row = await session.execute(
        text("SELECT count(*) FROM application WHERE round_id = :id AND status <> 'withdrawn'"), {"id": round_id}
    )
    return int(row.scalar_one())
