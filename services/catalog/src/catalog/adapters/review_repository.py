"""All SQL of the review aggregate, and catalog's projection of confirmed attendance months it relies on."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.adapters.orm import confirmed_month, enrolment, programme, review

Row = dict[str, Any]


async def put_confirmed_month(
    session: AsyncSession, enrolment_id: UUID, period: str, attended_sessions: int, at: datetime
) -> None:
    """The month is confirmed (a redelivery or a later resolution keeps the latest figures)."""
    statement = insert(confirmed_month).values(
        enrolment_id=enrolment_id, period=period, attended_sessions=attended_sessions, confirmed_at=at
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[confirmed_month.c.enrolment_id, confirmed_month.c.period],
            set_={"attended_sessions": attended_sessions, "confirmed_at": at},
            where=confirmed_month.c.confirmed_at <= statement.excluded.confirmed_at,
        )
    )


async def attended_a_confirmed_month(session: AsyncSession, enrolment_id: UUID) -> bool:
    query = select(
        exists().where(confirmed_month.c.enrolment_id == enrolment_id, confirmed_month.c.attended_sessions > 0)
    )
    return bool((await session.execute(query)).scalar_one())


async def enrolment_place(session: AsyncSession, enrolment_id: UUID) -> Row | None:
    """The enrolment's child, programme, provider, region and district (a review keeps them)."""
    query = (
        select(
            enrolment.c.child_id,
            enrolment.c.programme_id,
            enrolment.c.provider_id,
            programme.c.region_code,
            programme.c.district_code,
        )
        .join(programme, programme.c.id == enrolment.c.programme_id)
        .where(enrolment.c.id == enrolment_id)
    )
    row = (await session.execute(query)).mappings().first()
    return dict(row) if row else None


async def add(session: AsyncSession, values: Row) -> Row | None:
    """The new review, or None when the enrolment has one already."""
    statement = (
        insert(review)
        .values(id=uuid4(), status="visible", **values)
        .on_conflict_do_nothing(index_elements=[review.c.enrolment_id])
        .returning(*review.c)
    )
    row = (await session.execute(statement)).mappings().first()
    return dict(row) if row else None


async def load(session: AsyncSession, review_id: UUID, *, lock: bool) -> Row | None:
    query = select(review).where(review.c.id == review_id)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).mappings().first()
    return dict(row) if row else None


async def change(session: AsyncSession, review_id: UUID, values: Row) -> Row:
    statement = update(review).where(review.c.id == review_id).values(**values).returning(*review.c)
    return dict((await session.execute(statement)).mappings().one())


async def visible_of_programme(
    session: AsyncSession, programme_id: UUID, limit: int, offset: int
) -> tuple[list[Row], int]:
    where = and_(review.c.programme_id == programme_id, review.c.status == "visible")
    total = (await session.execute(select(func.count()).select_from(review).where(where))).scalar_one()
    rows = await session.execute(
        select(review).where(where).order_by(review.c.created_at.desc(), review.c.id).limit(limit).offset(offset)
    )
    return [dict(r) for r in rows.mappings()], total


async def rating_counts(session: AsyncSession, programme_ids: list[UUID]) -> dict[UUID, dict[int, int]]:
    """Visible ratings per programme and star."""
    if not programme_ids:
        return {}
    rows = await session.execute(
        select(review.c.programme_id, review.c.rating, func.count())
        .where(review.c.programme_id.in_(programme_ids), review.c.status == "visible")
        .group_by(review.c.programme_id, review.c.rating)
    )
    counts: dict[UUID, dict[int, int]] = {}
    for programme_id, rating, n in rows.all():
        counts.setdefault(programme_id, {})[rating] = n
    return counts
