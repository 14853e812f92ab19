"""All SQL of the allocation projection: applications (waitlist position, withdrawal) and closed rounds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.adapters.orm import allocation_round, application
from qosym_chassis.db import insert_from_arrays


@dataclass(frozen=True)
class KnownApplication:
    application_id: UUID
    round_id: UUID
    child_id: UUID
    position: int | None
    was_waitlisted: bool


@dataclass(frozen=True)
class ClosedRound:
    round_id: UUID
    closed_event_id: UUID
    early_close_reason: str | None


async def remember_application(session: AsyncSession, application_id: UUID, round_id: UUID, child_id: UUID) -> None:
    await session.execute(
        insert(application)
        .values(application_id=application_id, round_id=round_id, child_id=child_id)
        .on_conflict_do_nothing()
    )


async def remember_applications(session: AsyncSession, known: Sequence[tuple[UUID, UUID, UUID]]) -> None:
    """``remember_application`` for many ``(application_id, round_id, child_id)`` in one statement (one text for any
    number: compiled and prepared once), inserted in a fixed order so that two batches lock in the same order."""
    if not known:
        return
    rows = [{"application_id": a, "round_id": r, "child_id": c} for a, r, c in sorted(known, key=str)]
    await session.execute(insert_from_arrays(application, rows).on_conflict_do_nothing())


async def applications_for_update(session: AsyncSession, ids: Sequence[UUID]) -> dict[UUID, KnownApplication]:
    """``application_for_update`` for many, in one statement (rows locked in id order)."""
    if not ids:
        return {}
    rows = (
        (
            await session.execute(
                select(application)
                .where(application.c.application_id.in_(list(set(ids))))
                .order_by(application.c.application_id)
                .with_for_update()
            )
        )
        .mappings()
        .all()
    )
    return {
        r["application_id"]: KnownApplication(
            r["application_id"], r["round_id"], r["child_id"], r["position"], r["was_waitlisted"]
        )
        for r in rows
    }


_SET_POSITIONS = text(
    "UPDATE application AS a SET position = v.position, was_waitlisted = a.was_waitlisted OR v.position IS NOT NULL"
    " FROM unnest(CAST(:ids AS uuid[]), CAST(:positions AS integer[])) AS v(application_id, position)"
    " WHERE a.application_id = v.application_id"
)


async def set_positions(session: AsyncSession, positions: Sequence[tuple[UUID, int | None]]) -> None:
    """``set_position`` for many applications (each once) in one statement."""
    if not positions:
        return
    await session.execute(_SET_POSITIONS, {"ids": [a for a, _ in positions], "positions": [p for _, p in positions]})


async def application_for_update(session: AsyncSession, application_id: UUID) -> KnownApplication | None:
    row = (
        (
            await session.execute(
                select(application).where(application.c.application_id == application_id).with_for_update()
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    return KnownApplication(
        row["application_id"], row["round_id"], row["child_id"], row["position"], row["was_waitlisted"]
    )


async def set_position(session: AsyncSession, application_id: UUID, position: int | None) -> None:
    """The application's waitlist position (None: no longer waiting); a position marks it as having waited."""
    values: dict[str, object] = {"position": position}
    if position is not None:
        values["was_waitlisted"] = True
    await session.execute(update(application).where(application.c.application_id == application_id).values(**values))


async def mark_withdrawn(session: AsyncSession, application_id: UUID) -> None:
    await session.execute(
        update(application).where(application.c.application_id == application_id).values(withdrawn=True)
    )


async def open_applications_of_round(session: AsyncSession, round_id: UUID) -> list[KnownApplication]:
    rows = (
        (
            await session.execute(
                select(application).where(application.c.round_id == round_id, application.c.withdrawn.is_(False))
            )
        )
        .mappings()
        .all()
    )
    return [
        KnownApplication(r["application_id"], r["round_id"], r["child_id"], r["position"], r["was_waitlisted"])
        for r in rows
    ]


async def close_round(
    session: AsyncSession,
    round_id: UUID,
    region_code: str,
    event_id: UUID,
    at: datetime,
    early_close_reason: str | None = None,
) -> None:
    """The first closing recorded stays (a redelivery under a new event id keeps the first event's id)."""
    await session.execute(
        insert(allocation_round)
        .values(
            round_id=round_id,
            region_code=region_code,
            closed_event_id=event_id,
            closed_at=at,
            early_close_reason=early_close_reason,
        )
        .on_conflict_do_nothing()
    )


async def closed_round(session: AsyncSession, round_id: UUID) -> ClosedRound | None:
    row = (
        (await session.execute(select(allocation_round).where(allocation_round.c.round_id == round_id)))
        .mappings()
        .first()
    )
    return ClosedRound(row["round_id"], row["closed_event_id"], row["early_close_reason"]) if row else None


async def closed_rounds(session: AsyncSession, round_ids: Sequence[UUID]) -> dict[UUID, ClosedRound]:
    """``closed_round`` for many rounds in one statement (those closed)."""
    if not round_ids:
        return {}
    rows = (
        (await session.execute(select(allocation_round).where(allocation_round.c.round_id.in_(list(set(round_ids))))))
        .mappings()
        .all()
    )
    return {r["round_id"]: ClosedRound(r["round_id"], r["closed_event_id"], r["early_close_reason"]) for r in rows}
