"""SQL for the child projection: children, guardianships and verified categories, as the registry's events
tell them (docs/architecture.md, "Service anatomy")."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from allocation.adapters.orm import child
from allocation.domain.children import ChildView
from allocation.domain.ranking import Category


async def record_child(session: AsyncSession, view: ChildView) -> None:
    values = {
        "child_id": view.child_id,
        "guardian_id": view.guardian_id,
        "birth_date": view.birth_date,
        "sex": view.sex,
        "region_code": view.region_code,
        "district_code": view.district_code,
        "registered_at": view.registered_at,
    }
    await session.execute(insert(child).values(**values).on_conflict_do_nothing(index_elements=[child.c.child_id]))


async def move_child(session: AsyncSession, child_id: UUID, region_code: str, district_code: str) -> bool:
    result = await session.execute(
        update(child)
        .where(child.c.child_id == child_id)
        .values(region_code=region_code, district_code=district_code)
        .returning(child.c.child_id)
    )
    return result.first() is not None


async def get_child(session: AsyncSession, child_id: UUID) -> ChildView | None:
    row = (await session.execute(select(child).where(child.c.child_id == child_id))).mappings().first()
    return ChildView(**row) if row else None


async def record_guardianship(
    session: AsyncSession, child_id: UUID, guardian_id: UUID, active: bool, changed_at: datetime
) -> None:
    await session.execute(
        text(
            """INSERT INTO guardianship (child_id, guardian_id, active, changed_at) VALUES (:c, :g, :a, :t)
               ON CONFLICT (child_id, guardian_id) DO UPDATE SET active = excluded.active, changed_at = excluded.changed_at
               WHERE guardianship.changed_at <= excluded.changed_at"""
        ),
        {"c": child_id, "g": guardian_id, "a": active, "t": changed_at},
    )


async def is_guardian(session: AsyncSession, child_id: UUID, person: str) -> bool:
    """An active guardianship, or the registering guardian of the child whose guardianship never ended."""
    try:
        person_id = UUID(person)
    except ValueError:
        return False
    row = await session.execute(
        text(
            """SELECT EXISTS (SELECT 1 FROM guardianship WHERE child_id = :c AND guardian_id = :g AND active)
                   OR (EXISTS (SELECT 1 FROM child WHERE child_id = :c AND guardian_id = :g)
                       AND NOT EXISTS (SELECT 1 FROM guardianship WHERE child_id = :c AND guardian_id = :g AND NOT active))"""
        ),
        {"c": child_id, "g": person_id},
    )
    return bool(row.scalar_one())


async def replace_categories(
    session: AsyncSession, child_id: UUID, categories: list[Category], as_of: datetime
) -> bool:
    """Replace the child's verified categories unless a newer set was already applied."""
    newer = await session.execute(
        text(
            """INSERT INTO child_categories_as_of (child_id, as_of) VALUES (:c, :t)
               ON CONFLICT (child_id) DO UPDATE SET as_of = excluded.as_of
               WHERE child_categories_as_of.as_of <= excluded.as_of RETURNING child_id"""
        ),
        {"c": child_id, "t": as_of},
    )
    if newer.first() is None:
        return False
    await session.execute(text("DELETE FROM child_category WHERE child_id = :c"), {"c": child_id})
    unique = {(c.code, c.valid_from): c for c in categories}
    if unique:
        await session.execute(
            text("INSERT INTO child_category (child_id, code, valid_from, valid_until) VALUES (:c, :code, :f, :u)"),
            [{"c": child_id, "code": c.code, "f": c.valid_from, "u": c.valid_until} for c in unique.values()],
        )
    return True


async def categories_of(session: AsyncSession, child_id: UUID) -> list[Category]:
    rows = await session.execute(
        text("SELECT code, valid_from, valid_until FROM child_category WHERE child_id = :c ORDER BY code"),
        {"c": child_id},
    )
    return [Category(*r) for r in rows.all()]
