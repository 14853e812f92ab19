"""Set-based ranking and awarding of a round (the same rules as domain/ranking.py, in SQL).

Runs inside the caller's transaction; every counter it moves is guarded by a CHECK constraint
(round.spent_tiyn <= budget_tiyn, awarded_count <= voucher_count, awarded <= quota per district ×
direction and per direction), so a bug or a race aborts the transaction instead of overspending.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from allocation.adapters.round_repository import RoundRow
from allocation.adapters.voucher_repository import VoucherRow

AT_JSON = """to_char(CAST(:at AS timestamptz) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""

RANK_AND_AWARD = """
WITH weights AS (
    SELECT key AS code, value::int AS weight FROM jsonb_each_text(CAST(:weights AS jsonb))
), valid AS (
    SELECT DISTINCT child_id, code FROM child_category
    WHERE valid_from <= :ref AND (valid_until IS NULL OR valid_until >= :ref)
), scored AS (
    SELECT a.application_id, a.district_code, a.direction, coalesce(sum(w.weight), 0)::int AS score,
           sha256(CAST(:seed AS bytea) || uuid_send(a.public_id)) AS lottery
    FROM application a
    LEFT JOIN valid c ON c.child_id = a.child_id
    LEFT JOIN weights w ON w.code = c.code
    WHERE a.round_id = :r AND a.status = 'submitted'
    GROUP BY a.application_id
), ranked AS (
    SELECT scored.*, row_number() OVER (ORDER BY score DESC, lottery ASC) AS rank FROM scored
), cells AS (
    SELECT ranked.*, d.cost_tiyn, coalesce(q.quota, 0) AS quota,
           row_number() OVER (PARTITION BY ranked.district_code, ranked.direction ORDER BY ranked.rank) AS n
    FROM ranked
    JOIN round_direction d ON d.round_id = :r AND d.direction = ranked.direction
    LEFT JOIN round_quota q ON q.round_id = :r AND q.district_code = ranked.district_code
                           AND q.direction = ranked.direction
), quota_candidates AS (  -- pass 1: the first `quota` of each district x direction, budget in ranking order
    SELECT application_id, direction, cost_tiyn,
           sum(cost_tiyn) OVER (ORDER BY rank ROWS UNBOUNDED PRECEDING) AS running,
           row_number() OVER (ORDER BY rank) AS k
    FROM cells WHERE n <= quota
), by_quota AS (
    SELECT application_id, direction, cost_tiyn FROM quota_candidates
    WHERE running <= :budget_left AND (CAST(:cap_left AS bigint) IS NULL OR k <= CAST(:cap_left AS bigint))
), quota_per_direction AS (
    SELECT direction, count(*) AS n FROM by_quota GROUP BY direction
), quota_totals AS (
    SELECT coalesce(sum(cost_tiyn), 0) AS spent, count(*) AS n FROM by_quota
), rest AS (  -- pass 2: unused quota flows to other districts of the same direction
    SELECT c.application_id, c.rank, c.cost_tiyn,
           row_number() OVER (PARTITION BY c.direction ORDER BY c.rank) AS n,
           d.quota - d.awarded - coalesce(p.n, 0) AS room
    FROM cells c
    JOIN round_direction d ON d.round_id = :r AND d.direction = c.direction
    LEFT JOIN quota_per_direction p ON p.direction = c.direction
    LEFT JOIN by_quota b ON b.application_id = c.application_id
    WHERE b.application_id IS NULL
), flow_candidates AS (
    SELECT application_id, sum(cost_tiyn) OVER (ORDER BY rank ROWS UNBOUNDED PRECEDING) AS running,
           row_number() OVER (ORDER BY rank) AS k
    FROM rest WHERE n <= room
), by_flow AS (
    SELECT f.application_id FROM flow_candidates f, quota_totals t
    WHERE f.running <= :budget_left - t.spent
      AND (CAST(:cap_left AS bigint) IS NULL OR f.k <= CAST(:cap_left AS bigint) - t.n)
), outcome AS (
    SELECT c.application_id, c.district_code, c.direction, c.score, c.lottery, c.rank,
           CASE WHEN b.application_id IS NOT NULL THEN 'quota' WHEN f.application_id IS NOT NULL THEN 'flow' END AS via
    FROM cells c
    LEFT JOIN by_quota b ON b.application_id = c.application_id
    LEFT JOIN by_flow f ON f.application_id = c.application_id
), final AS (
    SELECT outcome.*,
           CASE WHEN via IS NULL
                THEN row_number() OVER (PARTITION BY via IS NULL, district_code, direction ORDER BY rank) END AS position
    FROM outcome
)
UPDATE application a
SET score = final.score, lottery = final.lottery, rank = final.rank,
    status = CASE WHEN final.via IS NULL THEN 'waitlisted' ELSE 'awarded' END,
    allocated_outcome = CASE WHEN final.via IS NULL THEN 'waitlisted' ELSE 'awarded' END,
    allocated_via = final.via, waitlist_position = final.position
FROM final WHERE a.application_id = final.application_id
"""

VOUCHERS = """
INSERT INTO voucher (voucher_id, round_id, application_id, child_id, region_code, district_code, direction, via,
                     monthly_value_tiyn, months, cost_tiyn, valid_until, assign_by)
SELECT gen_random_uuid(), :r, a.application_id, a.child_id, :region, a.district_code, a.direction, a.allocated_via,
       (CAST(:values AS jsonb) ->> a.direction)::bigint, :months, d.cost_tiyn, :until,
       least(CAST(:today AS date) + CAST(:deadline AS integer), CAST(:until AS date))
FROM application a JOIN round_direction d ON d.round_id = a.round_id AND d.direction = a.direction
WHERE a.round_id = :r AND a.allocated_outcome = 'awarded'
"""

COUNT_QUOTA = """
UPDATE round_quota q SET awarded = q.awarded + v.n
FROM (SELECT district_code, direction, count(*) AS n FROM voucher WHERE round_id = :r AND via = 'quota'
      GROUP BY 1, 2) v
WHERE q.round_id = :r AND q.district_code = v.district_code AND q.direction = v.direction
"""

COUNT_DIRECTION = """
UPDATE round_direction d SET awarded = d.awarded + v.n
FROM (SELECT direction, count(*) AS n FROM voucher WHERE round_id = :r GROUP BY 1) v
WHERE d.round_id = :r AND d.direction = v.direction
"""

COUNT_ROUND = """
UPDATE round SET spent_tiyn = spent_tiyn + v.cost, awarded_count = awarded_count + v.n
FROM (SELECT coalesce(sum(cost_tiyn), 0) AS cost, count(*) AS n FROM voucher WHERE round_id = :r) v
WHERE round_id = :r
"""

AWARDED_EVENTS = f"""
INSERT INTO outbox (event_id, event_type, topic, msg_key, payload)
SELECT v.id, 'allocation.VoucherAwarded', 'allocation.voucher.v1', v.voucher_id::text,
       jsonb_build_object('event_id', v.id::text, 'event_type', 'allocation.VoucherAwarded', 'event_version', 1,
           'occurred_at', {AT_JSON}, 'voucher_id', v.voucher_id::text, 'application_id', v.application_id::text,
           'child_id', v.child_id::text, 'region_code', v.region_code, 'district_code', v.district_code,
           'round_id', v.round_id::text, 'direction', v.direction, 'monthly_value_tiyn', v.monthly_value_tiyn,
           'months', v.months, 'valid_until', v.valid_until::text, 'assign_by', v.assign_by::text)
FROM (SELECT *, gen_random_uuid() AS id FROM voucher WHERE round_id = :r) v
"""

WAITLISTED_EVENTS = f"""
INSERT INTO outbox (event_id, event_type, topic, msg_key, payload)
SELECT a.id, 'allocation.ApplicationWaitlisted', 'allocation.application.v1', a.application_id::text,
       jsonb_build_object('event_id', a.id::text, 'event_type', 'allocation.ApplicationWaitlisted', 'event_version', 1,
           'occurred_at', {AT_JSON}, 'application_id', a.application_id::text, 'round_id', a.round_id::text,
           'child_id', a.child_id::text, 'position', a.waitlist_position)
FROM (SELECT *, gen_random_uuid() AS id FROM application WHERE round_id = :r AND status = 'waitlisted') a
"""


LONG_STATEMENT_TIMEOUT_S = 900.0
_NAMED = re.compile(r"(?<![:\w]):([a-z_]+)\b")


async def _long(session: AsyncSession, sql: str, params: dict[str, Any]) -> None:
    """Run a set-based statement of a big round on the session's own connection and transaction, with a
    longer client timeout than the pool's per-command default (a 500,000-application round takes longer)."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    positional = _NAMED.sub(number, sql)
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.execute(positional, *(params[n] for n in names), timeout=LONG_STATEMENT_TIMEOUT_S)


async def allocate(session: AsyncSession, round_: RoundRow, today: date, at: datetime) -> dict[str, Any]:
    """Rank and award every submitted application of a closed round; returns the summary. A voucher must be
    assigned within the round's deadline from ``today`` (the service clock's day); the events occur ``at``."""
    r = round_.round_id
    policy = round_.policy
    await session.execute(text("SET LOCAL work_mem = '256MB'"))  # the window sorts stay in memory
    await _long(
        session,
        RANK_AND_AWARD,
        {
            "r": r,
            "weights": json.dumps(policy.weights),
            "ref": round_.reference_date,
            "seed": round_.seed,
            "budget_left": round_.budget_tiyn - round_.spent_tiyn,
            "cap_left": None if round_.voucher_count is None else round_.voucher_count - round_.awarded_count,
        },
    )
    await _long(
        session,
        VOUCHERS,
        {
            "r": r,
            "region": round_.region_code,
            "values": json.dumps(policy.monthly_value_tiyn),
            "months": policy.months,
            "until": round_.voucher_valid_until,
            "deadline": round_.assignment_deadline_days,
            "today": today,
        },
    )
    # counters, each guarded by its CHECK constraint: a violation aborts the whole allocation
    await session.execute(text(COUNT_QUOTA), {"r": r})
    await session.execute(text(COUNT_DIRECTION), {"r": r})
    await session.execute(text(COUNT_ROUND), {"r": r})
    await _long(session, AWARDED_EVENTS, {"r": r, "at": at})
    await _long(session, WAITLISTED_EVENTS, {"r": r, "at": at})
    return await summary(session, r)


async def summary(session: AsyncSession, round_id: UUID) -> dict[str, Any]:
    row = (
        (
            await session.execute(
                text(
                    """SELECT r.spent_tiyn, r.awarded_count, r.budget_tiyn,
                              (SELECT count(*) FROM application WHERE round_id = r.round_id AND allocated_outcome = 'waitlisted') AS waitlisted,
                              (SELECT count(*) FROM application WHERE round_id = r.round_id AND allocated_via = 'flow') AS by_flow
                       FROM round r WHERE r.round_id = :r"""
                ),
                {"r": round_id},
            )
        )
        .mappings()
        .one()
    )
    return {
        "awarded": int(row["awarded_count"]),
        "awarded_by_quota_flow": int(row["by_flow"]),
        "waitlisted": int(row["waitlisted"]),
        "spent_tiyn": int(row["spent_tiyn"]),
        "budget_tiyn": int(row["budget_tiyn"]),
    }


# --- one voucher at a time: release and re-offer ----------------------------------------------------


async def free_counters(session: AsyncSession, voucher: VoucherRow) -> None:
    """A voucher goes back to its round: give back its budget, its direction place and (if any) its quota place."""
    params = {"r": voucher.round_id, "d": voucher.district_code, "dir": voucher.direction}
    await session.execute(
        text("UPDATE round SET spent_tiyn = spent_tiyn - :cost, awarded_count = awarded_count - 1 WHERE round_id = :r"),
        {**params, "cost": voucher.cost_tiyn},
    )
    await session.execute(
        text("UPDATE round_direction SET awarded = awarded - 1 WHERE round_id = :r AND direction = :dir"), params
    )
    if voucher.via == "quota":
        await session.execute(
            text(
                "UPDATE round_quota SET awarded = awarded - 1 WHERE round_id = :r AND district_code = :d AND direction = :dir"
            ),
            params,
        )


async def try_award_one(
    session: AsyncSession, round_: RoundRow, application: dict[str, Any], today: date
) -> VoucherRow | None:
    """Award one waitlisted application if its direction, the budget and the cap have room (else change nothing).

    Each counter moves by a conditional single-statement update; a savepoint undoes the partial moves.
    """
    params = {"r": round_.round_id, "d": application["district_code"], "dir": application["direction"]}
    nested = await session.begin_nested()
    direction = (
        await session.execute(
            text(
                """UPDATE round_direction SET awarded = awarded + 1
                   WHERE round_id = :r AND direction = :dir AND awarded < quota RETURNING cost_tiyn"""
            ),
            params,
        )
    ).first()
    if direction is None:
        await nested.rollback()
        return None
    cost = int(direction[0])
    budget = (
        await session.execute(
            text(
                """UPDATE round SET spent_tiyn = spent_tiyn + :cost, awarded_count = awarded_count + 1
                   WHERE round_id = :r AND spent_tiyn + :cost <= budget_tiyn
                     AND (voucher_count IS NULL OR awarded_count < voucher_count) RETURNING round_id"""
            ),
            {**params, "cost": cost},
        )
    ).first()
    if budget is None:
        await nested.rollback()
        return None
    cell = (
        await session.execute(
            text(
                """UPDATE round_quota SET awarded = awarded + 1
                   WHERE round_id = :r AND district_code = :d AND direction = :dir AND awarded < quota RETURNING quota"""
            ),
            params,
        )
    ).first()
    via = "quota" if cell is not None else "flow"
    voucher = (
        (
            await session.execute(
                text(
                    """INSERT INTO voucher (voucher_id, round_id, application_id, child_id, region_code, district_code,
                           direction, via, monthly_value_tiyn, months, cost_tiyn, valid_until, assign_by)
                       VALUES (gen_random_uuid(), :r, :a, :c, :region, :d, :dir, :via, :value, :months, :cost, :until,
                               least(CAST(:today AS date) + CAST(:deadline AS integer), CAST(:until AS date)))
                       RETURNING *"""
                ),
                {
                    **params,
                    "a": application["application_id"],
                    "c": application["child_id"],
                    "region": round_.region_code,
                    "via": via,
                    "value": round_.policy.monthly_value_tiyn[application["direction"]],
                    "months": round_.policy.months,
                    "cost": cost,
                    "until": round_.voucher_valid_until,
                    "deadline": round_.assignment_deadline_days,
                    "today": today,
                },
            )
        )
        .mappings()
        .one()
    )
    await session.execute(
        text("UPDATE application SET status = 'awarded' WHERE application_id = :a"),
        {"a": application["application_id"]},
    )
    await nested.commit()
    return VoucherRow.of(voucher)


async def waitlisted_in_order(session: AsyncSession, round_id: UUID, limit: int = 200) -> list[dict[str, Any]]:
    """Waitlisted applications whose direction has room, in the order a freed place is offered to them.

    A free place of a district's own quota goes first to that district × direction's best-ranked waitlisted
    application (as in the quota pass); only then does the rest of the direction follow in ranking order (flow).
    """
    rows = await session.execute(
        text(
            """SELECT a.application_id, a.child_id, a.district_code, a.direction
               FROM application a
               JOIN round_direction d ON d.round_id = a.round_id AND d.direction = a.direction
               LEFT JOIN round_quota q ON q.round_id = a.round_id AND q.district_code = a.district_code
                                      AND q.direction = a.direction
               WHERE a.round_id = :r AND a.status = 'waitlisted' AND d.awarded < d.quota
               ORDER BY coalesce(q.awarded < q.quota, false) DESC, a.rank
               LIMIT :limit FOR UPDATE OF a SKIP LOCKED"""
        ),
        {"r": round_id, "limit": limit},
    )
    return [dict(r) for r in rows.mappings().all()]


async def current_waitlist_position(
    session: AsyncSession, round_id: UUID, district_code: str, direction: str, rank: int
) -> int:
    """The live place in the child's own district × direction queue (1 = next to be offered a returned voucher)."""
    row = await session.execute(
        text(
            """SELECT count(*) + 1 FROM application
               WHERE round_id = :r AND district_code = :d AND direction = :dir AND status = 'waitlisted'
                 AND rank < :rank"""
        ),
        {"r": round_id, "d": district_code, "dir": direction, "rank": rank},
    )
    return int(row.scalar_one())


async def moved_up(session: AsyncSession, round_id: UUID, awarded: list[UUID]) -> list[dict[str, Any]]:
    """The waitlisted applications whose live position changed because ``awarded`` left their queues.

    A position changes exactly when an application of the same district × direction ranked above it left the
    waitlist; each is returned with its new position (nobody else's place moved).
    """
    rows = await session.execute(
        text(
            """WITH gone AS (
                   SELECT district_code, direction, min(rank) AS first_rank FROM application
                   WHERE application_id = ANY(:awarded) GROUP BY 1, 2
               ), queue AS (
                   SELECT a.application_id, a.child_id, a.district_code, a.direction, a.rank,
                          row_number() OVER (PARTITION BY a.district_code, a.direction ORDER BY a.rank) AS position
                   FROM application a JOIN gone g USING (district_code, direction)
                   WHERE a.round_id = :r AND a.status = 'waitlisted'
               )
               SELECT q.application_id, q.child_id, q.position FROM queue q
               JOIN gone g USING (district_code, direction)
               WHERE q.rank > g.first_rank ORDER BY q.district_code, q.direction, q.rank"""
        ),
        {"r": round_id, "awarded": awarded},
    )
    return [dict(r) for r in rows.mappings().all()]
