"""A partner's subscriptions, its delivery log and dead letters: every call sees the caller's own only (another
partner's id is 404, as one that does not exist)."""

from __future__ import annotations

import logging
from uuid import UUID, uuid4

from partners.adapters import repository
from partners.domain import signing
from partners.domain.deliveries import Status, endpoint_problem
from partners.service_layer.catalogue import PUBLIC_EVENTS
from partners.service_layer.dependencies import Dependencies
from partners.service_layer.views import (
    DeliveryOut,
    DeliveryPage,
    NewSubscriptionOut,
    SubscriptionOut,
    delivery_view,
    subscription_view,
)
from qosym_chassis.errors import Conflict, FieldError, NotFound

log = logging.getLogger("qosym.partners")
MAX_SUBSCRIPTIONS = 20


async def create(
    deps: Dependencies, partner_id: str, url: str, event_types: list[str], description: str
) -> NewSubscriptionOut:
    problem = endpoint_problem(url, allow_http=deps.allow_http)
    if problem:
        raise FieldError("url", problem)
    unknown = [name for name in event_types if name not in PUBLIC_EVENTS]
    if unknown:
        raise FieldError("event_types", f"unknown event types: {', '.join(sorted(unknown))}", code="unknown")
    subscription_id, secret, now = uuid4(), signing.new_secret(), deps.clock.now()
    async with deps.sessions() as session, session.begin():
        if len(await repository.subscriptions_of(session, partner_id)) >= MAX_SUBSCRIPTIONS:
            raise FieldError("url", f"at most {MAX_SUBSCRIPTIONS} subscriptions per partner", code="too_many")
        await repository.add_subscription(
            session,
            {
                "subscription_id": subscription_id,
                "partner_id": partner_id,
                "url": url,
                "event_types": sorted(set(event_types)),
                "description": description,
                "secret_sealed": deps.secrets.seal(subscription_id, secret),
                "created_at": now,
            },
        )
    log.info("partner %s subscribed %s to %d event types", partner_id, subscription_id, len(set(event_types)))
    return NewSubscriptionOut(
        subscription_id=subscription_id,
        url=url,
        event_types=sorted(set(event_types)),
        description=description,
        created_at=now,
        secret=secret,
    )


async def mine(deps: Dependencies, partner_id: str) -> list[SubscriptionOut]:
    async with deps.sessions() as session:
        return [subscription_view(row) for row in await repository.subscriptions_of(session, partner_id)]


async def one(deps: Dependencies, partner_id: str, subscription_id: UUID) -> SubscriptionOut:
    async with deps.sessions() as session:
        row = await repository.subscription_of(session, partner_id, subscription_id)
    if row is None:
        raise NotFound("no such subscription")
    return subscription_view(row)


async def delete(deps: Dependencies, partner_id: str, subscription_id: UUID) -> None:
    """The subscription and its delivery log go; nothing more is sent to it."""
    async with deps.sessions() as session, session.begin():
        if not await repository.delete_subscription(session, partner_id, subscription_id):
            raise NotFound("no such subscription")


async def deliveries(
    deps: Dependencies,
    partner_id: str,
    *,
    subscription_id: UUID | None,
    status: Status | None,
    offset: int,
    limit: int,
) -> DeliveryPage:
    async with deps.sessions() as session:
        if (
            subscription_id is not None
            and await repository.subscription_of(session, partner_id, subscription_id) is None
        ):
            raise NotFound("no such subscription")
        rows, total = await repository.deliveries_of(
            session, partner_id, subscription_id=subscription_id, status=status, offset=offset, limit=limit
        )
    return DeliveryPage(items=[delivery_view(row) for row in rows], total=total, offset=offset, limit=limit)


async def delivery(deps: Dependencies, partner_id: str, delivery_id: UUID) -> DeliveryOut:
    async with deps.sessions() as session:
        row = await repository.delivery_of(session, partner_id, delivery_id)
    if row is None:
        raise NotFound("no such delivery")
    return delivery_view(row)


async def replay(deps: Dependencies, partner_id: str, delivery_id: UUID) -> DeliveryOut:
    """A dead letter sent again (same webhook-id, a new timestamp and signature), with a fresh count of attempts.
    Only a dead-lettered delivery may be replayed: a pending one is on its way, a delivered one was answered 2xx."""
    async with deps.sessions() as session, session.begin():
        row = await repository.delivery_of(session, partner_id, delivery_id)
        if row is None:
            raise NotFound("no such delivery")
        if not await repository.requeue(session, partner_id, delivery_id, deps.clock.now()):
            raise Conflict(f"only a dead-lettered delivery is replayed; this one is {row.status}")
        row = await repository.delivery_of(session, partner_id, delivery_id)
    assert row is not None
    return delivery_view(row)
