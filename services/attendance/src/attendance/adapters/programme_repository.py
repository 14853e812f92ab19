"""Attendance's projections of catalog's programmes and their enrolments (event-carried state)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from attendance.adapters.orm import early_enrolment_end, enrolment, programme
from qosym_chassis.db import upsert_if_newer


async def upsert_programme(session: AsyncSession, values: dict[str, Any]) -> None:
    """Event-carried state of a programme, revisioned by the event's time: an older event never overwrites a
    newer one (one of the same instant does, as a redelivered state is the same state)."""
    await upsert_if_newer(
        session,
        programme,
        values,
        key=["id"],
        revision="source_at",
        also_when=programme.c.source_at == values["source_at"],
        touch=None,
    )


async def close_programme(session: AsyncSession, programme_id: UUID, at: datetime) -> bool:
    done = await session.execute(
        update(programme)
        .where(programme.c.id == programme_id, programme.c.source_at <= at)
        .values(status="closed", source_at=at)
        .returning(programme.c.id)
    )
    return done.first() is not None


async def get_programme(session: AsyncSession, programme_id: UUID) -> dict[str, Any] | None:
    row = (await session.execute(select(programme).where(programme.c.id == programme_id))).mappings().first()
    return dict(row) if row else None


async def add_enrolment(session: AsyncSession, values: dict[str, Any]) -> None:
    early_end = await session.scalar(
        select(early_enrolment_end.c.ended_at).where(early_enrolment_end.c.enrolment_id == values["id"])
    )
    statement = insert(enrolment).values(**values, ended_at=early_end)
    await session.execute(statement.on_conflict_do_nothing(index_elements=[enrolment.c.id]))


async def end_enrolment(session: AsyncSession, enrolment_id: UUID, at: datetime) -> None:
    done = await session.execute(
        update(enrolment)
        .where(enrolment.c.id == enrolment_id, enrolment.c.ended_at.is_(None))
        .values(ended_at=at)
        .returning(enrolment.c.id)
    )
    if done.first() is None:
        known = await session.scalar(select(enrolment.c.id).where(enrolment.c.id == enrolment_id))
        if known is None:  # ended before its confirmation reached us (or never confirmed): remember it
            await session.execute(
                insert(early_enrolment_end).values(enrolment_id=enrolment_id, ended_at=at).on_conflict_do_nothing()
            )


async def programmes_of_provider(session: AsyncSession, provider_id: UUID) -> list[dict[str, Any]]:
    rows = await session.execute(select(programme).where(programme.c.provider_id == provider_id))
    return [dict(r) for r in rows.mappings()]


async def lock_programmes(session: AsyncSession, programme_ids: list[UUID]) -> None:
    """The lock marking and submission take (in id order): no mark lands in a month while it is being submitted."""
    await session.execute(
        select(programme.c.id).where(programme.c.id.in_(programme_ids)).order_by(programme.c.id).with_for_update()
    )


async def enrolments_between(
    session: AsyncSession, programme_id: UUID, starts: datetime, ends: datetime
) -> dict[UUID, dict[str, Any]]:
    """The programme's enrolments active at some point in [starts, ends), by id, in enrolment order."""
    rows = await session.execute(
        select(enrolment)
        .where(
            enrolment.c.programme_id == programme_id,
            enrolment.c.starts_at < ends,
            or_(enrolment.c.ended_at.is_(None), enrolment.c.ended_at >= starts),
        )
        .order_by(enrolment.c.starts_at, enrolment.c.id)
    )
    return {r["id"]: dict(r) for r in rows.mappings()}
