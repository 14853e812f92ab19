"""Who each child's guardians are: a projection of registry's ChildRegistered and Guardianship* events, read by the
family budget (the children whose guardian the caller is)."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def add_guardian(session: AsyncSession, child_id: UUID, guardian_id: UUID) -> None:
    await session.execute(
        text("INSERT INTO guardianship (child_id, guardian_id) VALUES (:c, :g) ON CONFLICT DO NOTHING"),
        {"c": child_id, "g": guardian_id},
    )


async def remove_guardian(session: AsyncSession, child_id: UUID, guardian_id: UUID) -> None:
    await session.execute(
        text("DELETE FROM guardianship WHERE child_id = :c AND guardian_id = :g"), {"c": child_id, "g": guardian_id}
    )
