"""Registry persistence: children and the region projection."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from registry.adapters.orm import child, guardianship, person, region
from registry.domain.model import Child, Person, RegionRules


def _to_child(row: dict[str, object]) -> Child:
    return Child(
        id=row["id"],  # type: ignore[arg-type]
        guardian_id=row["guardian_id"],  # type: ignore[arg-type]
        birth_date=row["birth_date"],  # type: ignore[arg-type]
        sex=str(row["sex"]),
        iin_last4=str(row["iin_last4"]),
        region_code=str(row["region_code"]),
        district_code=str(row["district_code"]),
        flags=tuple(row.get("flags") or ()),  # type: ignore[arg-type]
    )


async def find_child_by_index(session: AsyncSession, iin_index: bytes) -> Child | None:
    row = (await session.execute(select(child).where(child.c.iin_index == iin_index))).mappings().first()
    return _to_child(dict(row)) if row else None


async def get_child(session: AsyncSession, child_id: UUID) -> Child | None:
    row = (await session.execute(select(child).where(child.c.id == child_id))).mappings().first()
    return _to_child(dict(row)) if row else None


async def lock_child(session: AsyncSession, child_id: UUID) -> Child | None:
    row = (await session.execute(select(child).where(child.c.id == child_id).with_for_update())).mappings().first()
    return _to_child(dict(row)) if row else None


async def move_child(session: AsyncSession, child_id: UUID, region_code: str, district_code: str) -> None:
    await session.execute(
        update(child).where(child.c.id == child_id).values(region_code=region_code, district_code=district_code)
    )


async def insert_child(session: AsyncSession, new: Child, *, iin_index: bytes, iin_ciphertext: bytes) -> bool:
    """False when another transaction registered the same IIN first."""
    result = await session.execute(
        insert(child)
        .values(
            id=new.id,
            iin_index=iin_index,
            iin_ciphertext=iin_ciphertext,
            iin_last4=new.iin_last4,
            guardian_id=new.guardian_id,
            birth_date=new.birth_date,
            sex=new.sex,
            region_code=new.region_code,
            district_code=new.district_code,
            flags=list(new.flags),
        )
        .on_conflict_do_nothing(index_elements=[child.c.iin_index])
        .returning(child.c.id)
    )
    return result.first() is not None


async def get_region(session: AsyncSession, code: str) -> RegionRules | None:
    row = (await session.execute(select(region).where(region.c.code == code))).mappings().first()
    if row is None:
        return None
    return RegionRules(
        code=row["code"],
        districts=frozenset(row["districts"]),
        child_age_min=row["child_age_min"],
        child_age_max=row["child_age_max"],
        category_codes=frozenset(row["category_codes"]),
    )


async def upsert_region(session: AsyncSession, rules: RegionRules, revision: int) -> None:
    values = {
        "code": rules.code,
        "revision": revision,
        "districts": sorted(rules.districts),
        "child_age_min": rules.child_age_min,
        "child_age_max": rules.child_age_max,
        "category_codes": sorted(rules.category_codes),
    }
    statement = insert(region).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[region.c.code],
            set_={k: statement.excluded[k] for k in values if k != "code"},
            where=region.c.revision < statement.excluded.revision,
        )
    )


async def add_flags(session: AsyncSession, table_name: str, row_id: UUID, flags: list[str]) -> None:
    table = person if table_name == "person" else child
    await session.execute(update(table).where(table.c.id == row_id).values(flags=flags))


def to_person(row: dict[str, object]) -> Person:
    return Person(
        id=row["id"],  # type: ignore[arg-type]
        birth_date=row["birth_date"],  # type: ignore[arg-type]
        sex=str(row["sex"]),
        iin_last4=str(row["iin_last4"]),
        phone=row["phone"],  # type: ignore[arg-type]
        flags=tuple(row["flags"]),  # type: ignore[arg-type]
    )


async def find_person_by_index(session: AsyncSession, iin_index: bytes) -> Person | None:
    row = (await session.execute(select(person).where(person.c.iin_index == iin_index))).mappings().first()
    return to_person(dict(row)) if row else None


async def get_person(session: AsyncSession, person_id: UUID) -> Person | None:
    row = (await session.execute(select(person).where(person.c.id == person_id))).mappings().first()
    return to_person(dict(row)) if row else None


async def active_guardians(session: AsyncSession, child_id: UUID) -> list[UUID]:
    rows = await session.execute(
        select(guardianship.c.guardian_id)
        .where(guardianship.c.child_id == child_id, guardianship.c.ended_at.is_(None))
        .order_by(guardianship.c.id)
    )
    return [r[0] for r in rows]


async def children_of(session: AsyncSession, guardian_id: UUID) -> list[Child]:
    rows = await session.execute(
        select(child)
        .join(guardianship, guardianship.c.child_id == child.c.id)
        .where(guardianship.c.guardian_id == guardian_id, guardianship.c.ended_at.is_(None))
        .order_by(child.c.created_at)
    )
    return [_to_child(dict(r)) for r in rows.mappings()]
