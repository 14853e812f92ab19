"""Registry persistence: children and the region projection."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from registry.adapters.orm import child, region
from registry.domain.model import Child, RegionRules


def _to_child(row: dict[str, object]) -> Child:
    return Child(
        id=row["id"],  # type: ignore[arg-type]
        guardian_id=row["guardian_id"],  # type: ignore[arg-type]
        birth_date=row["birth_date"],  # type: ignore[arg-type]
        sex=str(row["sex"]),
        iin_last4=str(row["iin_last4"]),
        region_code=str(row["region_code"]),
        district_code=str(row["district_code"]),
    )


async def find_child_by_index(session: AsyncSession, iin_index: bytes) -> Child | None:
    row = (await session.execute(select(child).where(child.c.iin_index == iin_index))).mappings().first()
    return _to_child(dict(row)) if row else None


async def get_child(session: AsyncSession, child_id: UUID) -> Child | None:
    row = (await session.execute(select(child).where(child.c.id == child_id))).mappings().first()
    return _to_child(dict(row)) if row else None


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
    )


async def upsert_region(session: AsyncSession, rules: RegionRules, revision: int) -> None:
    values = {
        "code": rules.code,
        "revision": revision,
        "districts": sorted(rules.districts),
        "child_age_min": rules.child_age_min,
        "child_age_max": rules.child_age_max,
    }
    statement = insert(region).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[region.c.code],
            set_={k: statement.excluded[k] for k in values if k != "code"},
            where=region.c.revision < statement.excluded.revision,
        )
    )
