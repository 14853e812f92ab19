"""Set-based ranking and awarding of a round (the same rules as domain/ranking.py, in SQL).

An allocation run writes its decision once into insert-only tables (``allocation_run``, ``allocation_result``:
one row per ranked application, ``allocation_cutoff``), never rewriting the application rows; what is live (an
application awarded by a re-offer, a waitlist position now) is the results minus the applications that have a
voucher since. Runs inside the caller's transaction; every counter it moves is guarded by a CHECK constraint
(round.spent_tiyn <= budget_tiyn, awarded_count <= voucher_count, awarded <= quota per district ×
direction and per direction), so a bug or a race aborts the transaction instead of overspending.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from allocation.adapters.round_repository import RoundRow
from allocation.adapters.voucher_repository import VoucherRow
from qosym_chassis import outbox

LATEST_RUN = "(SELECT run_id FROM allocation_run WHERE round_id = :r ORDER BY run_no DESC LIMIT 1)"

NEW_RUN = """
INSERT INTO allocation_run (run_id, round_id, run_no, allocated_at)
SELECT gen_random_uuid(), :r, coalesce(max(run_no), 0) + 1, :at FROM allocation_run WHERE round_id = :r
RETURNING run_id
"""

# The decision: score, lottery number, rank, both award passes and the waitlist position of every submitted
# application, as one chain of CTEs ending in ``final`` (read-only; the benchmark times it alone).
DECISION = """
WITH weights AS (
    SELECT key AS code, value::int AS weight FROM jsonb_each_text(CAST(:weights AS jsonb))
), valid AS (
    SELECT DISTINCT child_id, code FROM child_category
    WHERE valid_from <= :ref AND (valid_until IS NULL OR valid_until >= :ref)
      AND child_id IN (SELECT child_id FROM application WHERE round_id = :r AND status = 'submitted')
), per_child AS (  -- only children with a valid category: the others score 0 with an empty breakdown
    SELECT v.child_id, sum(coalesce(w.weight, 0))::int AS score,
           jsonb_agg(jsonb_build_array(v.code, coalesce(w.weight, 0)) ORDER BY v.code COLLATE "C") AS breakdown
    FROM valid v LEFT JOIN weights w ON w.code = v.code
    GROUP BY v.child_id
), scored AS (
    SELECT a.application_id, a.child_id, a.district_code, a.direction, coalesce(p.score, 0) AS score,
           p.breakdown, sha256(CAST(:seed AS bytea) || uuid_send(a.public_id)) AS lottery
    FROM application a
    LEFT JOIN per_child p ON p.child_id = a.child_id
    WHERE a.round_id = :r AND a.status = 'submitted'
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
    SELECT c.application_id, c.child_id, c.district_code, c.direction, c.score, c.breakdown, c.lottery, c.rank,
           CASE WHEN b.application_id IS NOT NULL THEN 'quota' WHEN f.application_id IS NOT NULL THEN 'flow' END AS via
    FROM cells c
    LEFT JOIN by_quota b ON b.application_id = c.application_id
    LEFT JOIN by_flow f ON f.application_id = c.application_id
), final AS (
    SELECT outcome.*,
           CASE WHEN via IS NULL
                THEN row_number() OVER (PARTITION BY via IS NULL, district_code, direction ORDER BY rank) END AS position
    FROM outcome
)"""

# Written once, insert-only: a row per ranked application and the cutoff of each district x direction (the
# last application the run awarded there). Nothing in ``application`` changes.
RANK_AND_AWARD = (
    DECISION
    + """, cutoffs AS (
    INSERT INTO allocation_cutoff (run_id, district_code, direction, rank, score, lottery)
    SELECT DISTINCT ON (district_code, direction) CAST(:run AS uuid), district_code, direction, rank, score, lottery
    FROM final WHERE via IS NOT NULL ORDER BY district_code, direction, rank DESC
)
INSERT INTO allocation_result (run_id, application_id, child_id, district_code, direction, score, score_breakdown,
                               lottery, rank, outcome, via, waitlist_position)
SELECT :run, application_id, child_id, district_code, direction, score, coalesce(breakdown, '[]'::jsonb), lottery,
       rank, CASE WHEN via IS NULL THEN 'waitlisted' ELSE 'awarded' END, via, position
FROM final
"""
)

VOUCHERS = """
INSERT INTO voucher (voucher_id, round_id, application_id, child_id, region_code, district_code, direction, via,
                     monthly_value_tiyn, months, cost_tiyn, valid_until, assign_by)
SELECT gen_random_uuid(), :r, res.application_id, res.child_id, :region, res.district_code, res.direction, res.via,
       (CAST(:values AS jsonb) ->> res.direction)::bigint, :months, d.cost_tiyn, :until,
       least(CAST(:today AS date) + CAST(:deadline AS integer), CAST(:until AS date))
FROM allocation_result res JOIN round_direction d ON d.round_id = :r AND d.direction = res.direction
WHERE res.run_id = :run AND res.outcome = 'awarded'
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

# The events, one multi-row INSERT ... SELECT each; ``:at`` is the occurred_at the envelope would serialise.
AWARDED_EVENTS = """
INSERT INTO outbox (event_id, event_type, topic, msg_key, payload, headers)
SELECT v.id, 'allocation.VoucherAwarded', 'allocation.voucher.v1', v.voucher_id::text,
       jsonb_build_object('event_id', v.id::text, 'event_type', 'allocation.VoucherAwarded', 'event_version', 1,
           'occurred_at', CAST(:at AS text), 'voucher_id', v.voucher_id::text, 'application_id', v.application_id::text,
           'child_id', v.child_id::text, 'region_code', v.region_code, 'district_code', v.district_code,
           'round_id', v.round_id::text, 'direction', v.direction, 'monthly_value_tiyn', v.monthly_value_tiyn,
           'months', v.months, 'valid_until', v.valid_until::text, 'assign_by', v.assign_by::text),
       CAST(:headers AS jsonb)
FROM (SELECT *, gen_random_uuid() AS id FROM voucher WHERE round_id = :r) v
"""

WAITLISTED_EVENTS = """
INSERT INTO outbox (event_id, event_type, topic, msg_key, payload, headers)
SELECT a.id, 'allocation.ApplicationWaitlisted', 'allocation.application.v1', a.application_id::text,
       jsonb_build_object('event_id', a.id::text, 'event_type', 'allocation.ApplicationWaitlisted', 'event_version', 1,
           'occurred_at', CAST(:at AS text), 'application_id', a.application_id::text, 'round_id', CAST(:r AS text),
           'child_id', a.child_id::text, 'position', a.waitlist_position),
       CAST(:headers AS jsonb)
FROM (SELECT *, gen_random_uuid() AS id FROM allocation_result WHERE run_id = :run AND outcome = 'waitlisted') a
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
    run = (await session.execute(text(NEW_RUN), {"r": r, "at": at})).scalar_one()
    await _long(
        session,
        RANK_AND_AWARD,
        {
            "r": r,
            "run": run,
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
            "run": run,
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
    occurred = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # as the envelope serialises it
    headers = json.dumps(outbox.trace_headers())  # the allocate request's trace, as add_events would stage it
    await _long(session, AWARDED_EVENTS, {"r": r, "at": occurred, "headers": headers})
    await _long(session, WAITLISTED_EVENTS, {"r": str(r), "run": run, "at": occurred, "headers": headers})
    await session.execute(select(func.pg_notify(outbox.WAKE_CHANNEL, "")))  # the relay starts at once
    return await summary(session, r)


async def summary(session: AsyncSession, round_id: UUID) -> dict[str, Any]:
    row = (
        (
            await session.execute(
                text(
                    f"""SELECT r.spent_tiyn, r.awarded_count, r.budget_tiyn, s.waitlisted, s.by_flow
                       FROM round r, (SELECT count(*) FILTER (WHERE outcome = 'waitlisted') AS waitlisted,
                                             count(*) FILTER (WHERE via = 'flow') AS by_flow
                                      FROM allocation_result WHERE run_id = {LATEST_RUN}) s
                       WHERE r.round_id = :r"""
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
                       ON CONFLICT (application_id) DO NOTHING
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
        .first()
    )
    if voucher is None:  # it was awarded meanwhile (the application's voucher is unique): nothing moves
        await nested.rollback()
        return None
    await nested.commit()  # the application is awarded now: it has a voucher (nothing in ``application`` changes)
    return VoucherRow.of(voucher)


async def waitlisted_in_order(session: AsyncSession, round_id: UUID, limit: int = 200) -> list[dict[str, Any]]:
    """Waitlisted applications whose direction has room, in the order a freed place is offered to them.

    A free place of a district's own quota goes first to that district × direction's best-ranked waitlisted
    application (as in the quota pass); only then does the rest of the direction follow in ranking order (flow).
    Waitlisted means: the latest run waitlisted it and it has no voucher yet. Callers hold the round row's lock
    (``free_counters`` updated it), so two re-offers of one round never race for the same application.
    """
    rows = await session.execute(
        text(
            f"""SELECT res.application_id, res.child_id, res.district_code, res.direction
               FROM allocation_result res
               JOIN round_direction d ON d.round_id = :r AND d.direction = res.direction
               LEFT JOIN round_quota q ON q.round_id = :r AND q.district_code = res.district_code
                                      AND q.direction = res.direction
               WHERE res.run_id = {LATEST_RUN} AND res.outcome = 'waitlisted' AND d.awarded < d.quota
                 AND NOT EXISTS (SELECT 1 FROM voucher v WHERE v.application_id = res.application_id)
               ORDER BY coalesce(q.awarded < q.quota, false) DESC, res.rank
               LIMIT :limit"""
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
            f"""SELECT count(*) + 1 FROM allocation_result res
               WHERE res.run_id = {LATEST_RUN} AND res.district_code = :d AND res.direction = :dir
                 AND res.rank < :rank AND res.outcome = 'waitlisted'
                 AND NOT EXISTS (SELECT 1 FROM voucher v WHERE v.application_id = res.application_id)"""
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
            f"""WITH run AS (SELECT {LATEST_RUN} AS run_id), gone AS (
                   SELECT district_code, direction, min(rank) AS first_rank FROM allocation_result
                   WHERE run_id = (SELECT run_id FROM run) AND application_id = ANY(:awarded) GROUP BY 1, 2
               ), queue AS (
                   SELECT res.application_id, res.child_id, res.district_code, res.direction, res.rank,
                          row_number() OVER (PARTITION BY res.district_code, res.direction ORDER BY res.rank) AS position
                   FROM allocation_result res JOIN gone g USING (district_code, direction)
                   WHERE res.run_id = (SELECT run_id FROM run) AND res.outcome = 'waitlisted'
                     AND NOT EXISTS (SELECT 1 FROM voucher v WHERE v.application_id = res.application_id)
               )
               SELECT q.application_id, q.child_id, q.position FROM queue q
               JOIN gone g USING (district_code, direction)
               WHERE q.rank > g.first_rank ORDER BY q.district_code, q.direction, q.rank"""
        ),
        {"r": round_id, "awarded": awarded},
    )
    return [dict(r) for r in rows.mappings().all()]
