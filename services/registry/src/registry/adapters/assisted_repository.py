"""All SQL for an operator's prepared changes (assisted registration), applied after the parent's code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from registry.adapters.orm import assisted_change


@dataclass(frozen=True)
class PreparedChange:
    id: UUID
    operator: str
    person_id: UUID
    challenge_id: UUID
    kind: str
    sealed_payload: bytes
    applied_at: datetime | None


async def add(session: AsyncSession, change: PreparedChange) -> None:
    await session.execute(
        insert(assisted_change).values(
            id=change.id,
            operator=change.operator,
            person_id=change.person_id,
            challenge_id=change.challenge_id,
            kind=change.kind,
            sealed_payload=change.sealed_payload,
        )
    )


async def get(session: AsyncSession, change_id: UUID) -> PreparedChange | None:
    row = (
        (
            await session.execute(
                select(*[assisted_change.c[name] for name in PreparedChange.__dataclass_fields__]).where(
                    assisted_change.c.id == change_id
                )
            )
        )
        .mappings()
        .first()
    )
    return PreparedChange(**row) if row else None


async def mark_applied(session: AsyncSession, change_id: UUID, at: datetime) -> None:
    await session.execute(update(assisted_change).where(assisted_change.c.id == change_id).values(applied_at=at))
