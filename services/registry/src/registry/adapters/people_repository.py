"""All SQL for a person and their consents."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import RowMapping, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from registry.adapters.orm import consent, person
from registry.domain.model import Person


def to_person(row: RowMapping) -> Person:
    return Person(
        id=row["id"],
        birth_date=row["birth_date"],
        sex=str(row["sex"]),
        iin_last4=str(row["iin_last4"]),
        phone=row["phone"],
        flags=tuple(row["flags"]),
    )


async def find_person_by_index(session: AsyncSession, iin_index: bytes) -> Person | None:
    row = (await session.execute(select(person).where(person.c.iin_index == iin_index))).mappings().first()
    return to_person(row) if row else None


async def get_person(session: AsyncSession, person_id: UUID) -> Person | None:
    row = (await session.execute(select(person).where(person.c.id == person_id))).mappings().first()
    return to_person(row) if row else None


async def insert_person(session: AsyncSession, new: Person, *, iin_index: bytes, iin_ciphertext: bytes) -> bool:
    """False when another transaction registered the same IIN first."""
    inserted = await session.execute(
        pg_insert(person)
        .values(
            id=new.id,
            iin_index=iin_index,
            iin_ciphertext=iin_ciphertext,
            iin_last4=new.iin_last4,
            birth_date=new.birth_date,
            sex=new.sex,
            phone=new.phone,
            flags=list(new.flags),
        )
        .on_conflict_do_nothing(index_elements=[person.c.iin_index])
        .returning(person.c.id)
    )
    return inserted.first() is not None


async def add_consent(session: AsyncSession, person_id: UUID, purpose: str, granted: bool) -> None:
    await session.execute(insert(consent).values(person_id=person_id, purpose=purpose, granted=granted))


async def consents_of(session: AsyncSession, person_id: UUID) -> list[tuple[str, bool, datetime]]:
    rows = await session.execute(
        select(consent.c.purpose, consent.c.granted, consent.c.recorded_at)
        .where(consent.c.person_id == person_id)
        .order_by(consent.c.id)
    )
    return [(r.purpose, r.granted, r.recorded_at) for r in rows]
