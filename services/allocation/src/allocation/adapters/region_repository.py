"""SQL for the region aggregate: allocation's own regions, revisioned (docs/architecture.md, "Service anatomy")."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from allocation.adapters.orm import region
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
