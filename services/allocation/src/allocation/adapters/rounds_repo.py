"""SQL for rounds, applications, projections and vouchers.

Ranking and awarding are set-based (window functions) so a round of hundreds of thousands of
applications decides in seconds; counters are guarded by CHECK constraints (spent <= budget,
awarded <= quota) and changed by single conditional statements, so nothing can exceed a quota or
the budget even if two transactions race.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, column, select, table, text
from sqlalchemy.ext.asyncio import AsyncSession

from allocation.domain.ranking import Category
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
    for cell in cells:
        totals[cell["direction"]] = totals.get(cell["direction"], 0) + cell["quota"]
    await session.execute(
        text(
            "INSERT INTO round_direction (round_id, direction, quota, cost_tiyn) VALUES (:id, :direction, :quota, :cost)"
        ),
        [{"id": round_id, "direction": d, "quota": q, "cost": policy.cost(d)} for d, q in totals.items()],
    )


def _round(row: Any, quotas: dict[str, dict[str, int]]) -> RoundRow:
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


async def list_round_ids(session: AsyncSession, region_code: str | None) -> list[UUID]:
    sql = "SELECT round_id FROM round" + (" WHERE region_code = :region" if region_code else "")
    rows = await session.execute(text(sql + " ORDER BY created_at DESC, round_id"), {"region": region_code})
    return [r[0] for r in rows.all()]


async def move_state(session: AsyncSession, round_id: UUID, source: RoundState, target: RoundState) -> bool:
    """Conditional single-statement transition: False if the round was not in `source`."""
    stamp = {"open": "opened_at", "closed": "closed_at", "allocated": "allocated_at"}[target.value]
    row = await session.execute(
        text(
            f"UPDATE round SET state = :target, {stamp} = now() WHERE round_id = :id AND state = :source RETURNING round_id"
        ),
        {"id": round_id, "source": source.value, "target": target.value},
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


# --- projections ------------------------------------------------------------------------------------


async def record_guardianship(
    session: AsyncSession, child_id: UUID, guardian_id: UUID, active: bool, changed_at: datetime
) -> None:
    await session.execute(
        text(
            """INSERT INTO guardianship (child_id, guardian_id, active, changed_at) VALUES (:c, :g, :a, :t)
               ON CONFLICT (child_id, guardian_id) DO UPDATE SET active = excluded.active, changed_at = excluded.changed_at
               WHERE guardianship.changed_at <= excluded.changed_at"""
        ),
        {"c": child_id, "g": guardian_id, "a": active, "t": changed_at},
    )


async def is_guardian(session: AsyncSession, child_id: UUID, person: str) -> bool:
    """An active guardianship, or the registering guardian of the child whose guardianship never ended."""
    try:
        person_id = UUID(person)
    except ValueError:
        return False
    row = await session.execute(
        text(
            """SELECT EXISTS (SELECT 1 FROM guardianship WHERE child_id = :c AND guardian_id = :g AND active)
                   OR (EXISTS (SELECT 1 FROM child WHERE child_id = :c AND guardian_id = :g)
                       AND NOT EXISTS (SELECT 1 FROM guardianship WHERE child_id = :c AND guardian_id = :g AND NOT active))"""
        ),
        {"c": child_id, "g": person_id},
    )
    return bool(row.scalar_one())


async def replace_categories(
    session: AsyncSession, child_id: UUID, categories: list[Category], as_of: datetime
) -> bool:
    """Replace the child's verified categories unless a newer set was already applied."""
    newer = await session.execute(
        text(
            """INSERT INTO child_categories_as_of (child_id, as_of) VALUES (:c, :t)
               ON CONFLICT (child_id) DO UPDATE SET as_of = excluded.as_of
               WHERE child_categories_as_of.as_of <= excluded.as_of RETURNING child_id"""
        ),
        {"c": child_id, "t": as_of},
    )
    if newer.first() is None:
        return False
    await session.execute(text("DELETE FROM child_category WHERE child_id = :c"), {"c": child_id})
    unique = {(c.code, c.valid_from): c for c in categories}
    if unique:
        await session.execute(
            text("INSERT INTO child_category (child_id, code, valid_from, valid_until) VALUES (:c, :code, :f, :u)"),
            [{"c": child_id, "code": c.code, "f": c.valid_from, "u": c.valid_until} for c in unique.values()],
        )
    return True


async def categories_of(session: AsyncSession, child_id: UUID) -> list[Category]:
    rows = await session.execute(
        text("SELECT code, valid_from, valid_until FROM child_category WHERE child_id = :c ORDER BY code"),
        {"c": child_id},
    )
    return [Category(*r) for r in rows.all()]


# --- applications -----------------------------------------------------------------------------------

APPLICATION_COLUMNS = """application_id, public_id, round_id, child_id, guardian_id, district_code, direction, status,
    submitted_at, withdrawn_at, score, encode(lottery, 'hex') AS lottery, rank, allocated_outcome, allocated_via,
    waitlist_position"""


async def insert_application(
    session: AsyncSession,
    application_id: UUID,
    public_id: UUID,
    round_id: UUID,
    child_id: UUID,
    guardian_id: UUID,
    district_code: str,
    direction: str,
) -> None:
    await session.execute(
        text(
            """INSERT INTO application (application_id, public_id, round_id, child_id, guardian_id, district_code, direction)
               VALUES (:a, :p, :r, :c, :g, :d, :dir)"""
        ),
        {
            "a": application_id,
            "p": public_id,
            "r": round_id,
            "c": child_id,
            "g": guardian_id,
            "d": district_code,
            "dir": direction,
        },
    )


async def get_application(session: AsyncSession, application_id: UUID, *, lock: bool = False) -> dict[str, Any] | None:
    sql = f"SELECT {APPLICATION_COLUMNS} FROM application WHERE application_id = :a" + (" FOR UPDATE" if lock else "")
    row = (await session.execute(text(sql), {"a": application_id})).mappings().first()
    return dict(row) if row else None


async def applications_of_guardian(session: AsyncSession, person: UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            f"""SELECT {APPLICATION_COLUMNS} FROM application a
                WHERE a.guardian_id = :g
                   OR a.child_id IN (SELECT child_id FROM guardianship WHERE guardian_id = :g AND active)
                ORDER BY submitted_at DESC"""
        ),
        {"g": person},
    )
    return [dict(r) for r in rows.mappings().all()]


async def withdraw(session: AsyncSession, application_id: UUID) -> bool:
    row = await session.execute(
        text(
            """UPDATE application SET status = 'withdrawn', withdrawn_at = now()
               WHERE application_id = :a AND status = 'submitted' RETURNING application_id"""
        ),
        {"a": application_id},
    )
    return row.first() is not None


async def voucher_of_application(session: AsyncSession, application_id: UUID) -> dict[str, Any] | None:
    row = (
        (await session.execute(text("SELECT * FROM voucher WHERE application_id = :a"), {"a": application_id}))
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def cutoff(session: AsyncSession, round_id: UUID, district: str, direction: str) -> dict[str, Any] | None:
    row = (
        (
            await session.execute(
                text(
                    """SELECT rank, score, encode(lottery, 'hex') AS lottery FROM application
                       WHERE round_id = :r AND district_code = :d AND direction = :dir AND allocated_outcome = 'awarded'
                       ORDER BY rank DESC LIMIT 1"""
                ),
                {"r": round_id, "d": district, "dir": direction},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def published_list(session: AsyncSession, round_id: UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            """SELECT public_id, score, encode(lottery, 'hex') AS lottery, rank, district_code, direction,
                      allocated_outcome, allocated_via, waitlist_position,
                      CASE WHEN allocated_outcome = 'waitlisted' AND status <> 'waitlisted'
                           THEN 'offered_from_waitlist' ELSE allocated_outcome END AS outcome_now,
                      CASE WHEN status = 'waitlisted' THEN row_number() OVER (
                          PARTITION BY district_code, direction, status = 'waitlisted' ORDER BY rank) END AS position_now
               FROM application WHERE round_id = :r AND rank IS NOT NULL ORDER BY rank"""
        ),
        {"r": round_id},
    )
    return [dict(r) for r in rows.mappings().all()]


async def candidates(session: AsyncSession, round_id: UUID) -> list[dict[str, Any]]:
    """Every ranked application with the child's categories (for what-if simulations)."""
    rows = await session.execute(
        text(
            """SELECT a.application_id, a.district_code, a.direction, encode(a.lottery, 'hex') AS lottery,
                      a.allocated_outcome,
                      coalesce(jsonb_agg(jsonb_build_array(c.code, c.valid_from, c.valid_until))
                               FILTER (WHERE c.code IS NOT NULL), '[]') AS categories
               FROM application a LEFT JOIN child_category c ON c.child_id = a.child_id
               WHERE a.round_id = :r AND a.rank IS NOT NULL
               GROUP BY a.application_id"""
        ),
        {"r": round_id},
    )
    return [dict(r) for r in rows.mappings().all()]


# --- vouchers ---------------------------------------------------------------------------------------


async def lock_voucher(session: AsyncSession, voucher_id: UUID) -> dict[str, Any] | None:
    row = (
        (await session.execute(text("SELECT * FROM voucher WHERE voucher_id = :v FOR UPDATE"), {"v": voucher_id}))
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def set_voucher_status(
    session: AsyncSession, voucher_id: UUID, status: str, *, reassignable_until: date | None
) -> None:
    await session.execute(
        text(
            """UPDATE voucher SET status = :s, enrolment_id = NULL, reassignable_until = :u,
                      released_at = CASE WHEN :s = 'released' THEN now() ELSE released_at END
               WHERE voucher_id = :v"""
        ),
        {"v": voucher_id, "s": status, "u": reassignable_until},
    )


async def set_voucher_reason(session: AsyncSession, voucher_id: UUID, reason: str, note: str | None) -> None:
    await session.execute(
        text("UPDATE voucher SET status_reason = :r, status_note = :n WHERE voucher_id = :v"),
        {"v": voucher_id, "r": reason, "n": note},
    )


async def assign_voucher(session: AsyncSession, voucher_id: UUID, enrolment_id: UUID) -> None:
    await session.execute(
        text(
            "UPDATE voucher SET status = 'assigned', enrolment_id = :e, reassignable_until = NULL WHERE voucher_id = :v"
        ),
        {"v": voucher_id, "e": enrolment_id},
    )


async def voucher_of_enrolment(
    session: AsyncSession, enrolment_id: UUID, *, lock: bool = False
) -> dict[str, Any] | None:
    sql = "SELECT * FROM voucher WHERE enrolment_id = :e" + (" FOR UPDATE" if lock else "")
    row = (await session.execute(text(sql), {"e": enrolment_id})).mappings().first()
    return dict(row) if row else None


async def lock_child_vouchers(session: AsyncSession, child_id: UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        text("SELECT * FROM voucher WHERE child_id = :c ORDER BY awarded_at, voucher_id FOR UPDATE"), {"c": child_id}
    )
    return [dict(r) for r in rows.mappings().all()]


async def vouchers_of_child(session: AsyncSession, child_id: UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        text("SELECT * FROM voucher WHERE child_id = :c ORDER BY awarded_at, voucher_id"), {"c": child_id}
    )
    return [dict(r) for r in rows.mappings().all()]


async def lapsed_vouchers(session: AsyncSession, today: date) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            """SELECT * FROM voucher
               WHERE (status = 'awarded' AND assign_by < :today)
                  OR (status = 'released' AND reassignable_until IS NOT NULL AND reassignable_until < :today)
               ORDER BY voucher_id FOR UPDATE SKIP LOCKED"""
        ),
        {"today": today},
    )
    return [dict(r) for r in rows.mappings().all()]


VOUCHER = table(
    "voucher",
    *(
        column(name)
        for name in (
            "voucher_id",
            "round_id",
            "child_id",
            "direction",
            "monthly_value_tiyn",
            "months",
            "valid_until",
            "assign_by",
            "status",
            "reassignable_until",
        )
    ),
)


def round_vouchers_query(round_id: UUID) -> Select[Any]:
    """Every voucher ever awarded in the round (re-offers included, whatever their status), in a stable order."""
    return select(VOUCHER).where(VOUCHER.c.round_id == round_id).order_by(VOUCHER.c.voucher_id)
