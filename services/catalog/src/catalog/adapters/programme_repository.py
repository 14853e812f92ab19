"""All SQL of the programme aggregate (its seats included: ``programme.reserved``)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.adapters.orm import programme, provider
from catalog.adapters.staff_repository import lapsed_clause

Row = dict[str, Any]

RESERVE_SEAT = text(
    "UPDATE programme SET reserved = reserved + 1, updated_at = now() "
    "WHERE id = :id AND status = 'published' AND reserved < capacity RETURNING reserved"
)
RELEASE_SEAT = text("UPDATE programme SET reserved = reserved - 1, updated_at = now() WHERE id = :id AND reserved > 0")


async def add(session: AsyncSession, provider_id: UUID, region_code: str, values: Row) -> Row:
    row = (
        (
            await session.execute(
                insert(programme)
                .values(id=uuid4(), provider_id=provider_id, region_code=region_code, **values)
                .returning(*programme.c)
            )
        )
        .mappings()
        .one()
    )
    return dict(row)


async def load(session: AsyncSession, programme_id: UUID, *, lock: bool = False) -> Row | None:
    query = select(programme).where(programme.c.id == programme_id)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).mappings().first()
    return dict(row) if row else None


async def of_provider(session: AsyncSession, provider_id: UUID) -> list[Row]:
    """Every programme of the provider, whatever its status, newest first."""
    rows = await session.execute(
        select(programme)
        .where(programme.c.provider_id == provider_id)
        .order_by(programme.c.created_at.desc(), programme.c.id)
    )
    return [dict(r) for r in rows.mappings()]


async def with_provider_status(session: AsyncSession, programme_id: UUID) -> Row | None:
    """The programme and its provider's status (``provider_status``)."""
    row = (
        (
            await session.execute(
                select(programme, provider.c.status.label("provider_status"))
                .join(provider, provider.c.id == programme.c.provider_id)
                .where(programme.c.id == programme_id)
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def region_of(session: AsyncSession, programme_id: UUID) -> str:
    region: str = (
        await session.execute(select(programme.c.region_code).where(programme.c.id == programme_id))
    ).scalar_one()
    return region


async def change(session: AsyncSession, programme_id: UUID, values: Row) -> Row:
    row = (
        (
            await session.execute(
                update(programme)
                .where(programme.c.id == programme_id)
                .values(**values, updated_at=func.now())
                .returning(*programme.c)
            )
        )
        .mappings()
        .one()
    )
    return dict(row)


async def set_closed(session: AsyncSession, programme_id: UUID) -> None:
    await session.execute(
        update(programme).where(programme.c.id == programme_id).values(status="closed", updated_at=func.now())
    )


async def reserve_seat(session: AsyncSession, programme_id: UUID) -> bool:
    """Take one seat if the programme is published and has one free (the CHECK constraint guards the count)."""
    return (await session.execute(RESERVE_SEAT, {"id": programme_id})).first() is not None


async def release_seat(session: AsyncSession, programme_id: UUID) -> None:
    await session.execute(RELEASE_SEAT, {"id": programme_id})


async def suspend_lapsed(session: AsyncSession, today: date) -> list[Row]:
    """Suspend every published programme whose coach or facility lacks a valid attestation on ``today``."""
    rows = await session.execute(
        update(programme)
        .where(programme.c.status == "published", lapsed_clause(today))
        .values(status="suspended", updated_at=func.now())
        .returning(*programme.c)
    )
    return [dict(r) for r in rows.mappings().all()]


async def restore_attested(session: AsyncSession, today: date) -> list[Row]:
    """Publish again every suspended programme whose attestations are all valid on ``today``."""
    rows = await session.execute(
        update(programme)
        .where(programme.c.status == "suspended", ~lapsed_clause(today))
        .values(status="published", updated_at=func.now())
        .returning(*programme.c)
    )
    return [dict(r) for r in rows.mappings().all()]
