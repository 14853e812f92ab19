"""All SQL of the projection of registry's children and guardianships (who may act for which child)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.adapters.orm import child, guardianship


async def is_guardian(session: AsyncSession, child_id: UUID, guardian_id: UUID) -> bool:
    found = await session.execute(
        select(guardianship.c.active).where(
            guardianship.c.child_id == child_id, guardianship.c.guardian_id == guardian_id, guardianship.c.active
        )
    )
    return found.first() is not None


async def child_of(session: AsyncSession, child_id: UUID) -> dict[str, Any] | None:
    row = (await session.execute(select(child).where(child.c.child_id == child_id))).mappings().first()
    return dict(row) if row else None


async def put_child(
    session: AsyncSession, child_id: UUID, birth_date: date, region_code: str, district_code: str | None
) -> None:
    values = {"birth_date": birth_date, "region_code": region_code, "district_code": district_code}
    statement = insert(child).values(child_id=child_id, **values)
    await session.execute(statement.on_conflict_do_update(index_elements=[child.c.child_id], set_=values))


async def put_guardianship(session: AsyncSession, child_id: UUID, guardian_id: UUID, active: bool) -> None:
    statement = insert(guardianship).values(child_id=child_id, guardian_id=guardian_id, active=active)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[guardianship.c.child_id, guardianship.c.guardian_id], set_={"active": active}
        )
    )
