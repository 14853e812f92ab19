"""All SQL for a child and its guardianships."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import RowMapping, func, select, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from registry.adapters.orm import child, guardianship, provider_enrolment
from registry.domain.model import Child


def to_child(row: RowMapping) -> Child:
    return Child(
        id=row["id"],
        guardian_id=row["guardian_id"],
        birth_date=row["birth_date"],
        sex=str(row["sex"]),
        iin_last4=str(row["iin_last4"]),
        region_code=str(row["region_code"]),
        district_code=str(row["district_code"]),
        flags=tuple(row.get("flags") or ()),
        name=row.get("name"),
    )


async def find_child_by_index(session: AsyncSession, iin_index: bytes) -> Child | None:
    row = (await session.execute(select(child).where(child.c.iin_index == iin_index))).mappings().first()
    return to_child(row) if row else None


async def get_child(session: AsyncSession, child_id: UUID) -> Child | None:
    row = (await session.execute(select(child).where(child.c.id == child_id))).mappings().first()
    return to_child(row) if row else None


async def lock_child(session: AsyncSession, child_id: UUID) -> Child | None:
    row = (await session.execute(select(child).where(child.c.id == child_id).with_for_update())).mappings().first()
    return to_child(row) if row else None


async def iin_ciphertext(session: AsyncSession, child_id: UUID) -> bytes | None:
    value: bytes | None = (await session.execute(select(child.c.iin_ciphertext).where(child.c.id == child_id))).scalar()
    return value


async def move_child(session: AsyncSession, child_id: UUID, region_code: str, district_code: str) -> None:
    await session.execute(
        update(child).where(child.c.id == child_id).values(region_code=region_code, district_code=district_code)
    )


async def rename_child(session: AsyncSession, child_id: UUID, name: str | None) -> None:
    await session.execute(update(child).where(child.c.id == child_id).values(name=name))


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
            name=new.name,
        )
        .on_conflict_do_nothing(index_elements=[child.c.iin_index])
        .returning(child.c.id)
    )
    return result.first() is not None


async def active_guardians(session: AsyncSession, child_id: UUID) -> list[UUID]:
    rows = await session.execute(
        select(guardianship.c.guardian_id)
        .where(guardianship.c.child_id == child_id, guardianship.c.ended_at.is_(None))
        .order_by(guardianship.c.id)
    )
    return [r[0] for r in rows]


async def add_guardian(session: AsyncSession, child_id: UUID, guardian_id: UUID, relation: str) -> None:
    await session.execute(insert(guardianship).values(child_id=child_id, guardian_id=guardian_id, relation=relation))


async def end_guardianship(session: AsyncSession, child_id: UUID, guardian_id: UUID, at: datetime) -> None:
    await session.execute(
        update(guardianship)
        .where(
            guardianship.c.child_id == child_id,
            guardianship.c.guardian_id == guardian_id,
            guardianship.c.ended_at.is_(None),
        )
        .values(ended_at=at)
    )


async def children_of(session: AsyncSession, guardian_id: UUID) -> list[Child]:
    rows = await session.execute(
        select(child)
        .join(guardianship, guardianship.c.child_id == child.c.id)
        .where(guardianship.c.guardian_id == guardian_id, guardianship.c.ended_at.is_(None))
        .order_by(child.c.created_at)
    )
    return [to_child(r) for r in rows.mappings()]


async def children_page(session: AsyncSession, guardian_id: UUID, offset: int, limit: int) -> tuple[list[Child], int]:
    """A page of the guardian's children (oldest registration first) and how many there are."""
    active = (guardianship.c.guardian_id == guardian_id, guardianship.c.ended_at.is_(None))
    joined = child.join(guardianship, guardianship.c.child_id == child.c.id)
    total = (await session.execute(select(func.count()).select_from(joined).where(*active))).scalar_one()
    rows = await session.execute(
        select(child)
        .select_from(joined)
        .where(*active)
        .order_by(child.c.created_at, child.c.id)
        .offset(offset)
        .limit(limit)
    )
    return [to_child(r) for r in rows.mappings()], total


async def enrolment_confirmed(session: AsyncSession, enrolment_id: UUID, child_id: UUID, provider_id: UUID) -> None:
    """Idempotent; an enrolment whose end arrived first stays ended."""
    await session.execute(
        insert(provider_enrolment)
        .values(enrolment_id=enrolment_id, child_id=child_id, provider_id=provider_id)
        .on_conflict_do_update(index_elements=[provider_enrolment.c.enrolment_id], set_={"provider_id": provider_id})
    )


async def enrolment_ended(session: AsyncSession, enrolment_id: UUID, child_id: UUID) -> None:
    await session.execute(
        insert(provider_enrolment)
        .values(enrolment_id=enrolment_id, child_id=child_id, ended=True)
        .on_conflict_do_update(index_elements=[provider_enrolment.c.enrolment_id], set_={"ended": True})
    )


async def enrolled_children(
    session: AsyncSession, provider_id: UUID, child_ids: list[UUID], offset: int, limit: int
) -> tuple[list[tuple[UUID, str | None]], int]:
    """(id, display name) of the children currently enrolled with the provider (only ``child_ids`` when given),
    by id, and how many there are."""
    current = select(provider_enrolment.c.child_id).where(
        provider_enrolment.c.provider_id == provider_id, provider_enrolment.c.ended.isnot(true())
    )
    where = [child.c.id.in_(current)]
    if child_ids:
        where.append(child.c.id.in_(child_ids))
    total = (await session.execute(select(func.count()).select_from(child).where(*where))).scalar_one()
    rows = await session.execute(
        select(child.c.id, child.c.name).where(*where).order_by(child.c.id).offset(offset).limit(limit)
    )
    return [(r[0], r[1]) for r in rows], total
