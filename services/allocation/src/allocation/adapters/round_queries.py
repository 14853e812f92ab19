"""Read-side SQL of rounds: listings, the published list, cutoffs, what-if candidates (docs/architecture.md, "Service anatomy")."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Select, column, select, table, text
from sqlalchemy.ext.asyncio import AsyncSession

from allocation.adapters.award_repository import LATEST_RUN


def round_ids_query(region_code: str | None) -> Select[Any]:
    """Every round's id, newest first, optionally of one region."""
    query = select(ROUND.c.round_id).order_by(ROUND.c.created_at.desc(), ROUND.c.round_id)
    return query.where(ROUND.c.region_code == region_code) if region_code else query


ROUND = table("round", column("round_id"), column("region_code"), column("created_at"))


async def cutoff(session: AsyncSession, round_id: UUID, district: str, direction: str) -> dict[str, Any] | None:
    """The last application the latest run awarded in a district × direction (its rank, score, lottery number)."""
    row = (
        (
            await session.execute(
                text(
                    f"""SELECT rank, score, encode(lottery, 'hex') AS lottery FROM allocation_cutoff
                       WHERE run_id = {LATEST_RUN} AND district_code = :d AND direction = :dir"""
                ),
                {"r": round_id, "d": district, "dir": direction},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def published_list(session: AsyncSession, round_id: UUID) -> list[dict[str, Any]]:
    """The latest run's ranking with what is true now: a waitlisted application that has a voucher since was
    offered one from the waitlist, and the others' live place in their queue."""
    rows = await session.execute(
        text(
            f"""SELECT a.public_id, res.score, encode(res.lottery, 'hex') AS lottery, res.rank, res.district_code,
                      res.direction, res.outcome AS allocated_outcome, res.via AS allocated_via, res.waitlist_position,
                      CASE WHEN res.outcome = 'waitlisted' AND v.application_id IS NOT NULL
                           THEN 'offered_from_waitlist' ELSE res.outcome END AS outcome_now,
                      CASE WHEN res.outcome = 'waitlisted' AND v.application_id IS NULL THEN row_number() OVER (
                          PARTITION BY res.district_code, res.direction,
                                       res.outcome = 'waitlisted' AND v.application_id IS NULL
                          ORDER BY res.rank) END AS position_now
               FROM allocation_result res
               JOIN application a ON a.application_id = res.application_id
               LEFT JOIN voucher v ON v.application_id = res.application_id
               WHERE res.run_id = {LATEST_RUN} ORDER BY res.rank"""
        ),
        {"r": round_id},
    )
    return [dict(r) for r in rows.mappings().all()]


async def candidates(session: AsyncSession, round_id: UUID) -> list[dict[str, Any]]:
    """Every application the latest run ranked, with the child's categories (for what-if simulations)."""
    rows = await session.execute(
        text(
            f"""SELECT res.application_id, res.district_code, res.direction, encode(res.lottery, 'hex') AS lottery,
                      res.outcome AS allocated_outcome,
                      coalesce(jsonb_agg(jsonb_build_array(c.code, c.valid_from, c.valid_until))
                               FILTER (WHERE c.code IS NOT NULL), '[]') AS categories
               FROM allocation_result res LEFT JOIN child_category c ON c.child_id = res.child_id
               WHERE res.run_id = {LATEST_RUN}
               GROUP BY res.run_id, res.application_id"""
        ),
        {"r": round_id},
    )
    return [dict(r) for r in rows.mappings().all()]
