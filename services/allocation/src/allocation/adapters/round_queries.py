"""Read-side SQL of rounds: listings, the published list, cutoffs, what-if candidates (docs/architecture.md, "Service anatomy")."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Select, column, select, table, text
from sqlalchemy.ext.asyncio import AsyncSession


def round_ids_query(region_code: str | None) -> Select[Any]:
    """Every round's id, newest first, optionally of one region."""
    query = select(ROUND.c.round_id).order_by(ROUND.c.created_at.desc(), ROUND.c.round_id)
    return query.where(ROUND.c.region_code == region_code) if region_code else query


ROUND = table("round", column("round_id"), column("region_code"), column("created_at"))


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
