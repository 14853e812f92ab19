"""All SQL of the complaint aggregate."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.adapters.orm import complaint, programme
from catalog.adapters.scopes import within
from catalog.domain.reach import Reach

Row = dict[str, Any]


async def programme_place(session: AsyncSession, programme_id: UUID) -> Row | None:
    """The programme's provider, region and district (a complaint keeps them)."""
    row = (
        (
            await session.execute(
                select(programme.c.provider_id, programme.c.region_code, programme.c.district_code).where(
                    programme.c.id == programme_id
                )
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def add(session: AsyncSession, values: Row) -> Row:
    row = (
        (await session.execute(complaint.insert().values(id=uuid4(), status="open", **values).returning(*complaint.c)))
        .mappings()
        .one()
    )
    return dict(row)


def _listing(filed_by: str | None, reach: Reach, filters: Row) -> Select[Any]:
    query = select(complaint)
    if filed_by is not None:
        query = query.where(complaint.c.filed_by == filed_by)
    else:
        query = query.where(within(reach, complaint.c.region_code, complaint.c.district_code))
    for key in ("region_code", "district_code", "status", "programme_id"):
        if filters.get(key) is not None:
            query = query.where(complaint.c[key] == filters[key])
    return query


async def listing(
    session: AsyncSession, filed_by: str | None, reach: Reach, filters: Row, limit: int, offset: int
) -> tuple[list[Row], int]:
    """Complaints filed by ``filed_by`` (a parent's), else those within ``reach``; newest first."""
    query = _listing(filed_by, reach, filters)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await session.execute(
        query.order_by(complaint.c.created_at.desc(), complaint.c.id).limit(limit).offset(offset)
    )
    return [dict(r) for r in rows.mappings()], total


async def load(session: AsyncSession, complaint_id: UUID, *, lock: bool) -> Row | None:
    query = select(complaint).where(complaint.c.id == complaint_id)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).mappings().first()
    return dict(row) if row else None


async def resolve(
    session: AsyncSession, complaint_id: UUID, outcome: str, resolution: str, resolved_by: str, now: datetime
) -> Row:
    row = (
        (
            await session.execute(
                update(complaint)
                .where(complaint.c.id == complaint_id)
                .values(
                    status="resolved",
                    outcome=outcome,
                    resolution=resolution,
                    resolved_by=resolved_by,
                    resolved_at=now,
                )
                .returning(*complaint.c)
            )
        )
        .mappings()
        .one()
    )
    return dict(row)
