"""SQL of the projections: a child's guardians and the objects threads are attached to."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.adapters.orm import guardianship, subject
from conversations.domain.participants import ObjectType, Subject


async def set_guardianship(
    session: AsyncSession, child_id: UUID, guardian_id: UUID, *, active: bool, at: datetime
) -> None:
    """Order-tolerant: an older event never overrides a newer one."""
    stmt = insert(guardianship).values(child_id=child_id, guardian_id=str(guardian_id), active=active, changed_at=at)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["child_id", "guardian_id"],
            set_={"active": stmt.excluded.active, "changed_at": stmt.excluded.changed_at},
            where=guardianship.c.changed_at <= stmt.excluded.changed_at,
        )
    )


async def guardians_of(session: AsyncSession, child_id: UUID) -> list[str]:
    rows = await session.execute(
        sa.select(guardianship.c.guardian_id)
        .where(guardianship.c.child_id == child_id, guardianship.c.active)
        .order_by(guardianship.c.guardian_id)
    )
    return list(rows.scalars())


async def children_of(session: AsyncSession, guardian_id: str) -> list[UUID]:
    rows = await session.execute(
        sa.select(guardianship.c.child_id).where(guardianship.c.guardian_id == guardian_id, guardianship.c.active)
    )
    return list(rows.scalars())


async def upsert_subject(session: AsyncSession, s: Subject) -> None:
    """What an event names about an object; a value an event leaves out keeps what another event said."""
    stmt = insert(subject).values(
        object_type=s.object_type,
        object_id=s.object_id,
        child_id=s.child_id,
        provider_id=s.provider_id,
        region_code=s.region_code,
        district_code=s.district_code,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["object_type", "object_id"],
            set_={
                c: sa.func.coalesce(stmt.excluded[c], subject.c[c])
                for c in ("provider_id", "region_code", "district_code")
            },
        )
    )


async def get_subject(session: AsyncSession, object_type: ObjectType, object_id: UUID) -> Subject | None:
    row = (
        await session.execute(
            sa.select(subject).where(subject.c.object_type == object_type, subject.c.object_id == object_id)
        )
    ).one_or_none()
    if row is None:
        return None
    return Subject(
        object_type=object_type,
        object_id=object_id,
        child_id=row.child_id,
        provider_id=row.provider_id,
        region_code=row.region_code,
        district_code=row.district_code,
    )
