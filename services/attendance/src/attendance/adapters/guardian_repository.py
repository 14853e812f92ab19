"""Attendance's projection of registry's guardianships: who may confirm or dispute a child's months."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from attendance.adapters.orm import guardianship


async def set_guardianship(session: AsyncSession, child_id: UUID, guardian_id: UUID, active: bool) -> None:
    statement = insert(guardianship).values(child_id=child_id, guardian_id=guardian_id, active=active)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[guardianship.c.child_id, guardianship.c.guardian_id], set_={"active": active}
        )
    )


async def is_guardian(session: AsyncSession, child_id: UUID, person: str) -> bool:
    try:
        guardian_id = UUID(person)
    except ValueError:
        return False
    found = await session.scalar(
        select(guardianship.c.active).where(
            guardianship.c.child_id == child_id, guardianship.c.guardian_id == guardian_id, guardianship.c.active
        )
    )
    return bool(found)


async def children_of(session: AsyncSession, person: str) -> list[UUID]:
    try:
        guardian_id = UUID(person)
    except ValueError:
        return []
    rows = await session.execute(
        select(guardianship.c.child_id).where(guardianship.c.guardian_id == guardian_id, guardianship.c.active)
    )
    return list(rows.scalars())
