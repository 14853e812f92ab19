"""SQL over subscriptions and deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from partners.adapters.orm import delivery, subscription
from partners.domain.deliveries import Status
from qosym_chassis.db import insert_from_arrays

Row = Any  # a result row (its columns by name)


async def add_subscription(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(subscription.insert().values(**values))


async def subscriptions_of(session: AsyncSession, partner_id: str) -> Sequence[Row]:
    query = subscription.select().where(subscription.c.partner_id == partner_id)
    return (await session.execute(query.order_by(subscription.c.created_at, subscription.c.subscription_id))).all()


async def subscription_of(session: AsyncSession, partner_id: str, subscription_id: UUID) -> Row | None:
    query = subscription.select().where(
        subscription.c.subscription_id == subscription_id, subscription.c.partner_id == partner_id
    )
    return (await session.execute(query)).first()


async def delete_subscription(session: AsyncSession, partner_id: str, subscription_id: UUID) -> bool:
    result = await session.execute(
        subscription.delete().where(
            subscription.c.subscription_id == subscription_id, subscription.c.partner_id == partner_id
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def subscriptions_for_any(
    session: AsyncSession, event_types: Sequence[str], occurred_before: datetime
) -> Sequence[Row]:
    """The subscriptions that want any of these event types and were created before ``occurred_before`` (the
    caller keeps, per event, those created before it occurred)."""
    query = subscription.select().where(
        subscription.c.event_types.overlap(list(event_types)),
        subscription.c.created_at <= occurred_before,
    )
    return (await session.execute(query)).all()


async def add_deliveries(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Many deliveries in one statement whose text is the same for any number (compiled and prepared once); a
    subscription already holding the event keeps its delivery."""
    if rows:
        await session.execute(
            insert_from_arrays(delivery, rows).on_conflict_do_nothing(constraint="delivery_subscription_event_key")
        )


async def claim_due(session: AsyncSession, now: datetime, lease_until: datetime, limit: int) -> Sequence[Row]:
    """Due deliveries with their subscription's endpoint, leased (next attempt pushed past ``lease_until``) so a
    second consumers process, or this one's next run, does not post them again while this run is at it."""
    due = (
        sa.select(delivery.c.delivery_id)
        .where(delivery.c.status == Status.PENDING, delivery.c.next_attempt_at <= now)
        .order_by(delivery.c.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claimed = (
        (
            await session.execute(
                delivery.update()
                .where(delivery.c.delivery_id.in_(due))
                .values(next_attempt_at=lease_until)
                .returning(delivery.c.delivery_id)
            )
        )
        .scalars()
        .all()
    )
    if not claimed:
        return []
    query = (
        sa.select(
            delivery.c.delivery_id,
            delivery.c.subscription_id,
            delivery.c.body,
            delivery.c.attempts,
            subscription.c.url,
            subscription.c.secret_sealed,
        )
        .join(subscription, subscription.c.subscription_id == delivery.c.subscription_id)
        .where(delivery.c.delivery_id.in_(claimed))
    )
    return (await session.execute(query)).all()


async def record_attempt(session: AsyncSession, delivery_id: UUID, values: dict[str, Any]) -> None:
    await session.execute(delivery.update().where(delivery.c.delivery_id == delivery_id).values(**values))


DELIVERY_COLUMNS = (
    delivery.c.delivery_id,
    delivery.c.subscription_id,
    delivery.c.event_id,
    delivery.c.event_type,
    delivery.c.status,
    delivery.c.attempts,
    delivery.c.next_attempt_at,
    delivery.c.last_attempt_at,
    delivery.c.last_status_code,
    delivery.c.last_error,
    delivery.c.created_at,
    delivery.c.delivered_at,
)


async def deliveries_of(
    session: AsyncSession,
    partner_id: str,
    *,
    subscription_id: UUID | None,
    status: Status | None,
    offset: int,
    limit: int,
) -> tuple[Sequence[Row], int]:
    where = [delivery.c.partner_id == partner_id]
    if subscription_id is not None:
        where.append(delivery.c.subscription_id == subscription_id)
    if status is not None:
        where.append(delivery.c.status == status)
    total = int((await session.execute(sa.select(sa.func.count()).select_from(delivery).where(*where))).scalar_one())
    query = (
        sa.select(*DELIVERY_COLUMNS)
        .where(*where)
        .order_by(delivery.c.created_at.desc(), delivery.c.delivery_id)
        .offset(offset)
        .limit(limit)
    )
    return (await session.execute(query)).all(), total


async def delivery_of(session: AsyncSession, partner_id: str, delivery_id: UUID) -> Row | None:
    query = sa.select(*DELIVERY_COLUMNS).where(
        delivery.c.delivery_id == delivery_id, delivery.c.partner_id == partner_id
    )
    return (await session.execute(query)).first()


async def requeue(session: AsyncSession, partner_id: str, delivery_id: UUID, now: datetime) -> bool:
    """A dead-lettered delivery back in the queue, with a fresh count of attempts."""
    result = await session.execute(
        delivery.update()
        .where(
            delivery.c.delivery_id == delivery_id,
            delivery.c.partner_id == partner_id,
            delivery.c.status == Status.DEAD,
        )
        .values(status=Status.PENDING, attempts=0, next_attempt_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
