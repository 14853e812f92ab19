"""Notifications persistence: messages and read marks, preferences, deliveries, projections, reminders."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import ColumnElement, Select, and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.adapters.live import announce
from notifications.adapters.orm import (
    allocation_round,
    application,
    audience_member,
    delivery,
    guardian,
    inbox_message,
    message_read,
    preference,
    programme,
    reminder,
)
from notifications.domain.messages import Message, NewMessage

# --- messages ----------------------------------------------------------------------------------------


async def add_message(session: AsyncSession, new: NewMessage) -> UUID | None:
    """The new message's id; None when the recipient has it already (a redelivery or a replay)."""
    result = await session.execute(
        insert(inbox_message)
        .values(
            id=uuid4(),
            audience=new.audience,
            person_id=new.person_id,
            kind=new.kind,
            subject_id=new.subject_id,
            event_id=new.event_id,
            dedup_key=new.dedup_key,
            payload=new.payload,
        )
        .on_conflict_do_nothing()
        .returning(inbox_message.c.id)
    )
    message_id = result.scalar()
    if message_id is not None:
        await announce(session, new.audience, message_id)
    return message_id


def _for(audiences: tuple[str, ...]) -> ColumnElement[bool]:
    exact = [a for a in audiences if not a.endswith(":*")]
    prefixes = [a[:-1] for a in audiences if a.endswith(":*")]
    return or_(inbox_message.c.audience.in_(exact), *(inbox_message.c.audience.startswith(p) for p in prefixes))


def _with_read_state(reader_id: UUID) -> Select[Any]:
    return select(*inbox_message.c, message_read.c.read_at).outerjoin(
        message_read, and_(message_read.c.message_id == inbox_message.c.id, message_read.c.reader_id == reader_id)
    )


def inbox_query(audiences: tuple[str, ...], reader_id: UUID, *, unread_only: bool = False) -> Select[Any]:
    query = _with_read_state(reader_id).where(_for(audiences))
    if unread_only:
        query = query.where(message_read.c.read_at.is_(None))
    return query.order_by(inbox_message.c.seq.desc())


def _message(row: Any) -> Message:
    return Message(
        id=row["id"],
        seq=row["seq"],
        audience=row["audience"],
        kind=row["kind"],
        subject_id=row["subject_id"],
        payload=row["payload"],
        created_at=row["created_at"],
        read_at=row["read_at"],
    )


def to_message(row: Any) -> Message:
    return _message(row._mapping if hasattr(row, "_mapping") else row)


async def message_for(
    session: AsyncSession, message_id: UUID, audiences: tuple[str, ...], reader_id: UUID
) -> Message | None:
    row = (
        (await session.execute(_with_read_state(reader_id).where(inbox_message.c.id == message_id, _for(audiences))))
        .mappings()
        .first()
    )
    return _message(row) if row else None


async def messages_after(
    session: AsyncSession, audiences: tuple[str, ...], reader_id: UUID, seq: int, limit: int = 500
) -> list[Message]:
    rows = (
        (
            await session.execute(
                _with_read_state(reader_id)
                .where(_for(audiences), inbox_message.c.seq > seq)
                .order_by(inbox_message.c.seq)
                .limit(limit)
            )
        )
        .mappings()
        .all()
    )
    return [_message(r) for r in rows]


async def last_seq(session: AsyncSession, audiences: tuple[str, ...]) -> int:
    value = (await session.execute(select(func.max(inbox_message.c.seq)).where(_for(audiences)))).scalar()
    return int(value or 0)


async def unread_count(session: AsyncSession, audiences: tuple[str, ...], reader_id: UUID) -> int:
    query = (
        select(func.count())
        .select_from(
            inbox_message.outerjoin(
                message_read,
                and_(message_read.c.message_id == inbox_message.c.id, message_read.c.reader_id == reader_id),
            )
        )
        .where(_for(audiences), message_read.c.read_at.is_(None))
    )
    return int((await session.execute(query)).scalar_one())


async def mark_read(
    session: AsyncSession, message_id: UUID, audiences: tuple[str, ...], reader_id: UUID
) -> Message | None:
    """Mark one of the reader's messages read for them (the first time only); None if it is not theirs."""
    if await message_for(session, message_id, audiences, reader_id) is None:
        return None
    await session.execute(
        insert(message_read).values(message_id=message_id, reader_id=reader_id).on_conflict_do_nothing()
    )
    return await message_for(session, message_id, audiences, reader_id)


async def message_by_id(session: AsyncSession, message_id: UUID) -> dict[str, Any] | None:
    row = (await session.execute(select(inbox_message).where(inbox_message.c.id == message_id))).mappings().first()
    return dict(row) if row else None


async def programme_titles(session: AsyncSession, ids: Iterable[UUID]) -> dict[UUID, dict[str, str]]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await session.execute(
        select(programme.c.programme_id, programme.c.title).where(programme.c.programme_id.in_(wanted))
    )
    return {r.programme_id: r.title for r in rows if r.title}


# --- preferences and audience membership ------------------------------------------------------------


async def get_preference(session: AsyncSession, person_id: UUID) -> dict[str, Any] | None:
    row = (await session.execute(select(preference).where(preference.c.person_id == person_id))).mappings().first()
    return dict(row) if row else None


async def get_preferences(session: AsyncSession, person_ids: Iterable[UUID]) -> dict[UUID, dict[str, Any]]:
    wanted = list(set(person_ids))
    if not wanted:
        return {}
    rows = (await session.execute(select(preference).where(preference.c.person_id.in_(wanted)))).mappings().all()
    return {r["person_id"]: dict(r) for r in rows}


async def put_preference(session: AsyncSession, person_id: UUID, values: dict[str, Any]) -> None:
    values = {**values, "updated_at": func.now()}
    await session.execute(
        insert(preference)
        .values(person_id=person_id, **values)
        .on_conflict_do_update(index_elements=[preference.c.person_id], set_=values)
    )


async def set_memberships(session: AsyncSession, person_id: UUID, audiences: Iterable[str]) -> None:
    groups = [a for a in audiences if not a.startswith("person:")]
    await session.execute(
        delete(audience_member).where(
            audience_member.c.person_id == person_id, audience_member.c.audience.not_in(groups)
        )
    )
    for audience in groups:
        await session.execute(
            insert(audience_member)
            .values(person_id=person_id, audience=audience)
            .on_conflict_do_update(
                index_elements=[audience_member.c.person_id, audience_member.c.audience],
                set_={"updated_at": func.now()},
            )
        )


async def members_of(session: AsyncSession, audience: str) -> list[UUID]:
    prefix = audience.partition(":")[0]
    matches = [audience]
    if prefix == "administrators":
        matches.append("administrators:*")  # national administrators read every region's
    rows = await session.execute(
        select(audience_member.c.person_id).where(audience_member.c.audience.in_(matches)).distinct()
    )
    return [r.person_id for r in rows]


# --- deliveries -------------------------------------------------------------------------------------


async def add_delivery(
    session: AsyncSession, message_id: UUID, person_id: UUID, channel: str, not_before: datetime
) -> None:
    await session.execute(
        insert(delivery)
        .values(id=uuid4(), message_id=message_id, person_id=person_id, channel=channel, not_before=not_before)
        .on_conflict_do_nothing()
    )


async def claim_due_deliveries(session: AsyncSession, now: datetime, limit: int) -> list[dict[str, Any]]:
    rows = (
        (
            await session.execute(
                select(delivery)
                .where(delivery.c.status == "pending", delivery.c.not_before <= now)
                .order_by(delivery.c.not_before)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        .mappings()
        .all()
    )
    return [dict(r) for r in rows]


async def settle_delivery(session: AsyncSession, delivery_id: UUID, **values: Any) -> None:
    await session.execute(update(delivery).where(delivery.c.id == delivery_id).values(**values))


async def deliveries_of(session: AsyncSession, message_id: UUID) -> list[dict[str, Any]]:
    rows = (await session.execute(select(delivery).where(delivery.c.message_id == message_id))).mappings().all()
    return [dict(r) for r in rows]


# --- projections ------------------------------------------------------------------------------------


async def set_guardian(session: AsyncSession, child_id: UUID, guardian_id: UUID, active: bool, at: datetime) -> None:
    """Order-tolerant: a fact older than the one recorded changes nothing."""
    await session.execute(
        insert(guardian)
        .values(child_id=child_id, guardian_id=guardian_id, active=active, changed_at=at)
        .on_conflict_do_update(
            index_elements=[guardian.c.child_id, guardian.c.guardian_id],
            set_={"active": active, "changed_at": at},
            where=guardian.c.changed_at <= at,
        )
    )


async def guardians_of(session: AsyncSession, child_id: UUID) -> tuple[bool, list[UUID]]:
    """(whether the child is known at all, its active guardians)."""
    rows = (await session.execute(select(guardian).where(guardian.c.child_id == child_id))).mappings().all()
    return bool(rows), sorted((r["guardian_id"] for r in rows if r["active"]), key=str)


async def children_of(session: AsyncSession, person_ids: list[UUID]) -> dict[UUID, list[UUID]]:
    """Each person's children in the order this service learned of them (the basis of "child 2 of 3")."""
    if not person_ids:
        return {}
    rows = (
        await session.execute(
            select(guardian.c.guardian_id, guardian.c.child_id)
            .where(guardian.c.guardian_id.in_(person_ids))
            .order_by(guardian.c.guardian_id, guardian.c.changed_at, guardian.c.child_id)
        )
    ).all()
    found: dict[UUID, list[UUID]] = {}
    for person, child in rows:
        found.setdefault(person, []).append(child)
    return found


async def set_programme(
    session: AsyncSession, programme_id: UUID, provider_id: UUID, title: dict[str, str] | None, at: datetime
) -> None:
    await session.execute(
        insert(programme)
        .values(programme_id=programme_id, provider_id=provider_id, title=title, changed_at=at)
        .on_conflict_do_update(
            index_elements=[programme.c.programme_id],
            set_={"provider_id": provider_id, "title": title, "changed_at": at},
            where=programme.c.changed_at <= at,
        )
    )


async def remember_application(session: AsyncSession, application_id: UUID, round_id: UUID, child_id: UUID) -> None:
    await session.execute(
        insert(application)
        .values(application_id=application_id, round_id=round_id, child_id=child_id)
        .on_conflict_do_nothing()
    )


async def application_row(session: AsyncSession, application_id: UUID) -> dict[str, Any] | None:
    row = (
        (
            await session.execute(
                select(application).where(application.c.application_id == application_id).with_for_update()
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def update_application(session: AsyncSession, application_id: UUID, **values: Any) -> None:
    await session.execute(update(application).where(application.c.application_id == application_id).values(**values))


async def applications_of_round(session: AsyncSession, round_id: UUID) -> list[dict[str, Any]]:
    rows = (
        (
            await session.execute(
                select(application).where(application.c.round_id == round_id, application.c.withdrawn.is_(False))
            )
        )
        .mappings()
        .all()
    )
    return [dict(r) for r in rows]


async def close_round(
    session: AsyncSession,
    round_id: UUID,
    region_code: str,
    event_id: UUID,
    at: datetime,
    early_close_reason: str | None = None,
) -> None:
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


async def closed_round(session: AsyncSession, round_id: UUID) -> dict[str, Any] | None:
    row = (
        (await session.execute(select(allocation_round).where(allocation_round.c.round_id == round_id)))
        .mappings()
        .first()
    )
    return dict(row) if row else None


# --- reminders --------------------------------------------------------------------------------------


async def schedule_reminder(
    session: AsyncSession,
    kind: str,
    subject_id: UUID,
    child_id: UUID,
    fire_at: datetime,
    deadline: datetime,
    payload: dict[str, Any],
) -> None:
    """A reminder already cancelled (its action done, even before it was scheduled) stays cancelled."""
    await session.execute(
        insert(reminder)
        .values(
            id=uuid4(),
            kind=kind,
            subject_id=subject_id,
            child_id=child_id,
            status="scheduled",
            fire_at=fire_at,
            deadline=deadline,
            payload=payload,
        )
        .on_conflict_do_update(
            index_elements=[reminder.c.kind, reminder.c.subject_id],
            set_={"fire_at": fire_at, "deadline": deadline, "payload": payload, "child_id": child_id},
            where=reminder.c.status == "scheduled",
        )
    )


async def cancel_reminder(session: AsyncSession, kind: str, subject_id: UUID) -> None:
    await session.execute(
        insert(reminder)
        .values(id=uuid4(), kind=kind, subject_id=subject_id, status="cancelled", settled_at=func.now())
        .on_conflict_do_update(
            index_elements=[reminder.c.kind, reminder.c.subject_id],
            set_={"status": "cancelled", "settled_at": func.now()},
            where=reminder.c.status == "scheduled",
        )
    )


async def claim_due_reminders(session: AsyncSession, now: datetime, limit: int) -> list[dict[str, Any]]:
    rows = (
        (
            await session.execute(
                select(reminder)
                .where(reminder.c.status == "scheduled", reminder.c.fire_at <= now)
                .order_by(reminder.c.fire_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        .mappings()
        .all()
    )
    return [dict(r) for r in rows]


async def settle_reminder(session: AsyncSession, reminder_id: UUID, status: str) -> None:
    await session.execute(
        update(reminder).where(reminder.c.id == reminder_id).values(status=status, settled_at=func.now())
    )


async def reminder_status(session: AsyncSession, kind: str, subject_id: UUID) -> str | None:
    value = (
        await session.execute(
            select(reminder.c.status).where(reminder.c.kind == kind, reminder.c.subject_id == subject_id)
        )
    ).scalar()
    return str(value) if value is not None else None
