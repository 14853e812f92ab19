"""A partner's webhooks: subscriptions, the delivery log, dead letters and their replay."""

from __future__ import annotations

from typing import TypeVar
from uuid import UUID

from fastapi import APIRouter, Response, status

from partners.domain.deliveries import Status
from partners.entrypoints.dependencies import Deps, Partner
from partners.entrypoints.schemas import SubscriptionIn
from partners.service_layer import subscriptions
from partners.service_layer.catalogue import PUBLIC_EVENTS
from partners.service_layer.views import DeliveryOut, DeliveryPage, EventTypeOut, NewSubscriptionOut, SubscriptionOut
from qosym_chassis.idempotency import NOT_STORED
from qosym_chassis.inputs import Limit, Offset, OffsetPage

T = TypeVar("T")


def page_of(items: list[T], offset: int, limit: int) -> OffsetPage[T]:
    return OffsetPage[T](items=items[offset : offset + limit], total=len(items), offset=offset, limit=limit)


def delivery_page(page: DeliveryPage) -> OffsetPage[DeliveryOut]:
    return OffsetPage[DeliveryOut](items=page.items, total=page.total, offset=page.offset, limit=page.limit)


router = APIRouter(tags=["webhooks"])


@router.get("/v1/webhooks/event-types")
async def event_types(caller: Partner, offset: Offset = 0, limit: Limit = 100) -> OffsetPage[EventTypeOut]:
    """Every event type a subscription may name, with its topic and key (docs/partners.md)."""
    every = [
        EventTypeOut(event_type=name, topic=cls.topic, key_field=cls.key_field)
        for name, cls in sorted(PUBLIC_EVENTS.items())
    ]
    return page_of(every, offset, limit)


@router.post(
    "/v1/webhooks/subscriptions", status_code=status.HTTP_201_CREATED, responses={422: {}}, openapi_extra=NOT_STORED
)
async def subscribe(body: SubscriptionIn, caller: Partner, deps: Deps) -> NewSubscriptionOut:
    """Register an endpoint for some event types. The answer carries the signing secret, shown this once."""
    return await subscriptions.create(deps, caller.subject, body.url, body.event_types, body.description)


@router.get("/v1/webhooks/subscriptions")
async def my_subscriptions(
    caller: Partner, deps: Deps, offset: Offset = 0, limit: Limit = 50
) -> OffsetPage[SubscriptionOut]:
    """The caller's subscriptions, oldest first (never their secrets)."""
    return page_of(await subscriptions.mine(deps, caller.subject), offset, limit)


@router.get("/v1/webhooks/subscriptions/{subscription_id}", responses={404: {}})
async def one_subscription(subscription_id: UUID, caller: Partner, deps: Deps) -> SubscriptionOut:
    return await subscriptions.one(deps, caller.subject, subscription_id)


@router.delete(
    "/v1/webhooks/subscriptions/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {}}
)
async def unsubscribe(subscription_id: UUID, caller: Partner, deps: Deps) -> Response:
    """Nothing more is sent to the endpoint; its delivery log goes with it."""
    await subscriptions.delete(deps, caller.subject, subscription_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/v1/webhooks/deliveries", responses={404: {}})
async def delivery_log(
    caller: Partner,
    deps: Deps,
    subscription_id: UUID | None = None,
    status: Status | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> OffsetPage[DeliveryOut]:
    """The caller's deliveries, newest first: attempts, the last answer's status code or error."""
    return delivery_page(
        await subscriptions.deliveries(
            deps, caller.subject, subscription_id=subscription_id, status=status, offset=offset, limit=limit
        )
    )


@router.get("/v1/webhooks/deliveries/{delivery_id}", responses={404: {}})
async def one_delivery(delivery_id: UUID, caller: Partner, deps: Deps) -> DeliveryOut:
    return await subscriptions.delivery(deps, caller.subject, delivery_id)


@router.get("/v1/webhooks/dead-letters", responses={404: {}})
async def dead_letters(
    caller: Partner, deps: Deps, subscription_id: UUID | None = None, offset: Offset = 0, limit: Limit = 50
) -> OffsetPage[DeliveryOut]:
    """The caller's deliveries that failed every attempt."""
    return delivery_page(
        await subscriptions.deliveries(
            deps, caller.subject, subscription_id=subscription_id, status=Status.DEAD, offset=offset, limit=limit
        )
    )


@router.post(
    "/v1/webhooks/deliveries/{delivery_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    responses={404: {}, 409: {}},
)
async def replay(delivery_id: UUID, caller: Partner, deps: Deps) -> DeliveryOut:
    """Send a dead letter again (same webhook-id, new timestamp and signature), with a fresh count of attempts."""
    return await subscriptions.replay(deps, caller.subject, delivery_id)
