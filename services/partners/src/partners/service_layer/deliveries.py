"""Deliveries: one per event and subscription that wants it, recorded as the event is consumed (in the consumer's
transaction, so the inbox's deduplication covers it), then posted by the consumers process's delivery job."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from sqlalchemy.ext.asyncio import AsyncSession

from partners.adapters import repository
from partners.domain import signing
from partners.domain.deliveries import Status, next_attempt
from partners.service_layer.dependencies import Dependencies
from qosym_contracts.envelope import IntegrationEvent

log = logging.getLogger("qosym.partners")
CONCURRENCY = 10


def delivery_id(subscription_id: UUID, event_id: UUID) -> UUID:
    """The same event for the same subscription is one delivery (one webhook-id), however often it is consumed."""
    return uuid5(NAMESPACE_URL, f"qosym:webhook:{subscription_id}:{event_id}")


def body_of(event: IntegrationEvent) -> bytes:
    """Standard Webhooks' payload shape: ``type``, ``timestamp`` and the event as it is on the topic in ``data``."""
    payload = {
        "type": event.event_type,
        "timestamp": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "data": event.model_dump(mode="json"),
    }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


async def on_events(
    deps: Dependencies, session: AsyncSession, events: Sequence[IntegrationEvent]
) -> Mapping[UUID, str]:
    """A batch's consecutive events of one type (a round's burst: thousands): one look-up of the subscriptions that
    may want any of them, then a delivery per event and subscription that wants it (its type, and created before
    the event occurred: no history on joining). Never parks."""
    if not events:
        return {}
    wanted = await repository.subscriptions_for_any(
        session, sorted({e.event_type for e in events}), max(e.occurred_at for e in events)
    )
    if not wanted:
        return {}
    now = deps.clock.now()
    await repository.add_deliveries(
        session,
        [
            {
                "delivery_id": delivery_id(row.subscription_id, event.event_id),
                "subscription_id": row.subscription_id,
                "partner_id": row.partner_id,
                "event_id": event.event_id,
                "event_type": event.event_type,
                "body": body,
                "status": Status.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for event in events
            for body in (body_of(event),)
            for row in wanted
            if event.event_type in row.event_types and row.created_at <= event.occurred_at
        ],
    )
    return {}


async def deliver_due(deps: Dependencies) -> int:
    """Post every due delivery once; returns how many were attempted. A failure waits base × 2^(n-1) (capped)
    before the next attempt; after the last allowed attempt the delivery is dead-lettered."""
    retries = deps.retries
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        rows = await repository.claim_due(session, now, now + timedelta(seconds=retries.lease_s), retries.batch)
    if not rows:
        return 0
    limit = asyncio.Semaphore(CONCURRENCY)

    async def attempt(row: Any) -> None:
        async with limit:
            await _attempt(deps, row)

    await asyncio.gather(*(attempt(row) for row in rows))
    return len(rows)


async def _attempt(deps: Dependencies, row: Any) -> None:
    retries = deps.retries
    secret = deps.secrets.open(row.subscription_id, row.secret_sealed)
    sent_at = deps.clock.now()
    answer = await deps.sender.post(row.url, row.body, signing.headers(secret, str(row.delivery_id), sent_at, row.body))
    attempts = row.attempts + 1
    done = deps.clock.now()
    values: dict[str, Any] = {
        "attempts": attempts,
        "last_attempt_at": sent_at,
        "last_status_code": answer.status_code,
        "last_error": answer.error,
    }
    if answer.error is None:
        values.update(status=Status.DELIVERED, delivered_at=done, next_attempt_at=done)
    elif attempts >= retries.max_attempts:
        values.update(status=Status.DEAD, next_attempt_at=done)
        log.warning("webhook %s dead-lettered after %d attempts: %s", row.delivery_id, attempts, answer.error)
    else:
        values["next_attempt_at"] = next_attempt(done, attempts, retries.backoff_base_s, retries.backoff_max_s)
    async with deps.sessions() as session, session.begin():
        await repository.record_attempt(session, row.delivery_id, values)
