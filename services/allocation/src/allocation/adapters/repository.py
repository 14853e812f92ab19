"""Allocation persistence: regions and the child projection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import Select, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from allocation.adapters.orm import child, region
from allocation.domain.children import ChildView
from allocation.domain.region import RegionConfig


@dataclass(frozen=True)
class StoredRegion:
    config: RegionConfig
    revision: int


async def lock_region(session: AsyncSession, code: str) -> StoredRegion | None:
    row = (await session.execute(select(region).where(region.c.code == code).with_for_update())).mappings().first()
    return StoredRegion(RegionConfig.model_validate(row["config"]), row["revision"]) if row else None


async def get_region(session: AsyncSession, code: str) -> StoredRegion | None:
    row = (await session.execute(select(region).where(region.c.code == code))).mappings().first()
    return StoredRegion(RegionConfig.model_validate(row["config"]), row["revision"]) if row else None


def regions_query() -> Select[Any]:
    return select(region).order_by(region.c.code)


async def save_region(session: AsyncSession, config: RegionConfig, revision: int, actor: str) -> None:
    document = config.model_dump(mode="json")
    if revision == 1:
        await session.execute(insert(region).values(code=config.code, revision=1, config=document, updated_by=actor))
    else:
        await session.execute(
            update(region)
            .where(region.c.code == config.code)
            .values(revision=revision, config=document, updated_by=actor, updated_at=func.now())
        )


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


def children_query(region_code: str | None, district_code: str | None = None) -> Select[Any]:
    query = select(child).order_by(child.c.registered_at, child.c.child_id)
    if region_code:
        query = query.where(child.c.region_code == region_code)
    if district_code:
        query = query.where(child.c.district_code == district_code)
    return query
