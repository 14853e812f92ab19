"""All SQL of the people projection: which guardians each child has (from the registry's events)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.adapters.orm import guardian
from qosym_chassis.db import upsert_if_newer


async def set_guardian(session: AsyncSession, child_id: UUID, guardian_id: UUID, active: bool, at: datetime) -> None:
    """Order-tolerant: a fact older than the one recorded changes nothing (one as old overwrites it)."""
    await upsert_if_newer(
        session,
        guardian,
        {"child_id": child_id, "guardian_id": guardian_id, "active": active, "changed_at": at},
        key=["child_id", "guardian_id"],
        revision="changed_at",
        also_when=guardian.c.changed_at == at,
        touch=None,
    )


async def guardians_of(session: AsyncSession, child_id: UUID) -> tuple[bool, list[UUID]]:
    """(whether the child is known at all, its active guardians)."""
    rows = (await session.execute(select(guardian).where(guardian.c.child_id == child_id))).mappings().all()
    return bool(rows), sorted((r["guardian_id"] for r in rows if r["active"]), key=str)


async def guardians_of_children(session: AsyncSession, child_ids: list[UUID]) -> dict[UUID, list[UUID]]:
    """``guardians_of`` for many children in one statement: each known child's active guardians (unknown ones are
    absent)."""
    if not child_ids:
        return {}
    rows = (
        await session.execute(
            select(guardian.c.child_id, guardian.c.guardian_id, guardian.c.active).where(
                guardian.c.child_id.in_(list(set(child_ids)))
            )
        )
    ).all()
    found: dict[UUID, list[UUID]] = {}
    for child_id, guardian_id, active in rows:
        found.setdefault(child_id, [])
        if active:
            found[child_id].append(guardian_id)
    return {child_id: sorted(guardians, key=str) for child_id, guardians in found.items()}


async def children_of(session: AsyncSession, person_ids: list[UUID]) -> dict[UUID, list[UUID]]:
    """Each person's children in the order this service learned of them (the basis of "child 2 of 3")."""
    if not person_ids:
        return {}
    rows = (
        await session.execute(
            select(guardian.c.guardian_id, guardian.c.child_id)
            .where(guardian.c.guardian_id.in_(person_ids))
            .order_by(guardian.c.guardian_id, guardian.c.changed_at, guardian.c.child_id)
        )
    ).all()
    found: dict[UUID, list[UUID]] = {}
    for person, child in rows:
        found.setdefault(person, []).append(child)
    return found
