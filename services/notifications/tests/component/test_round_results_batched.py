"""A round's results set-based (``round_results``, registered as ``Many``) equal the per-event handlers.

The same events go, in the same polls, to two databases: one consumer as the consumers process registers it
(ApplicationWaitlisted and VoucherAwarded set-based), one with the per-event handlers
(``allocation_news.on_waitlisted``, ``on_voucher_awarded``) in the same place. Both must end with the same
applications, messages (in the same order per recipient), deliveries, reminders, outgoing events, parked events and
no dead letter: including a place that changes twice in one poll, an event twice in one poll, a whole poll
delivered again, a child whose guardians arrive only after its results, a child with an ended guardianship and
guardians with e-mail and SMS addresses.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import service_settings
from notifications.adapters import applications_repository as applications_repo
from notifications.bootstrap import bootstrap
from notifications.config import NotificationsSettings
from notifications.entrypoints.consumers import SUBSCRIPTIONS, register
from notifications.service_layer import allocation_news
from notifications.service_layer.dependencies import Dependencies
from qosym_chassis.consumer import EventConsumer, Outcome, Subscriptions
from qosym_chassis.context import ServiceContext, build_context
from qosym_contracts.allocation import ApplicationSubmittedV1, ApplicationWaitlistedV1, RoundClosedV1, VoucherAwardedV1
from qosym_contracts.envelope import IntegrationEvent
from qosym_contracts.registry import GuardianshipEndedV1
from tests.support.events import message

from .support import awarded, guardian_of, round_closed, submitted, waitlisted

pytestmark = pytest.mark.component


async def round_closed_one_at_a_time(deps: Dependencies, session: AsyncSession, event: RoundClosedV1) -> None:
    """The close as it was before ``round_results.tell_round_closed``: one open application after another."""
    await applications_repo.close_round(
        session, event.round_id, event.region_code, event.event_id, event.occurred_at, event.early_close_reason
    )
    closed = await applications_repo.closed_round(session, event.round_id)
    assert closed is not None
    for known in await applications_repo.open_applications_of_round(session, event.round_id):
        await allocation_news._tell_round_closed(deps, session, known.application_id, closed, known.child_id)


PER_EVENT: Subscriptions[Any] = {
    **SUBSCRIPTIONS,
    ApplicationSubmittedV1: allocation_news.on_application_submitted,
    RoundClosedV1: round_closed_one_at_a_time,
    ApplicationWaitlistedV1: allocation_news.on_waitlisted,
    VoucherAwardedV1: allocation_news.on_voucher_awarded,
}


@pytest.fixture
async def two_consumers(
    service_db: Callable[[str], Awaitable[str]], stack_servers: Any, jwks_url: str
) -> AsyncIterator[tuple[tuple[str, EventConsumer], tuple[str, EventConsumer]]]:
    contexts: list[ServiceContext] = []

    def context(url: str) -> ServiceContext:
        settings = service_settings("notifications", stack_servers, url, jwks_url)
        ctx = build_context(settings, "consumers")
        contexts.append(ctx)
        return ctx

    many_url, one_url = await service_db("notifications"), await service_db("notifications")
    ctx = context(many_url)
    batched = EventConsumer(service="notifications", engine=ctx.engine, session_factory=ctx.session_factory)
    register(batched, ctx)
    ctx = context(one_url)
    assert isinstance(ctx.settings, NotificationsSettings)
    per_event = EventConsumer(service="notifications", engine=ctx.engine, session_factory=ctx.session_factory)
    per_event.route(PER_EVENT, bootstrap(ctx.settings, ctx).deps)
    yield (many_url, batched), (one_url, per_event)
    for made in contexts:
        await made.redis.aclose()
        await made.engine.dispose()


async def state(url: str) -> dict[str, Any]:
    """Everything the two paths must agree on, without generated ids and times."""
    conn = await asyncpg.connect(url)
    try:
        messages = await conn.fetch(
            "SELECT id, audience, person_id, kind, subject_id, event_id, dedup_key, payload::text AS payload"
            " FROM inbox_message ORDER BY seq"
        )
        named = {r["id"]: (r["audience"], r["dedup_key"]) for r in messages}
        per_audience: dict[str, list[tuple[Any, ...]]] = {}
        for r in messages:
            per_audience.setdefault(r["audience"], []).append(
                (r["person_id"], r["kind"], r["subject_id"], r["event_id"], r["dedup_key"], json.loads(r["payload"]))
            )
        deliveries = sorted(
            (named[r["message_id"]], r["person_id"], r["channel"], r["status"])
            for r in await conn.fetch("SELECT message_id, person_id, channel, status FROM delivery")
        )
        outgoing: dict[str, list[tuple[Any, ...]]] = {}
        for r in await conn.fetch("SELECT event_type, msg_key, payload::text AS payload FROM outbox ORDER BY id"):
            payload = json.loads(r["payload"])
            outgoing.setdefault(r["msg_key"], []).append(
                (r["event_type"], named[UUID(payload["notification_id"])], payload["kind"], payload["channel"])
            )
        return {
            "applications": sorted(tuple(r) for r in await conn.fetch("SELECT * FROM application")),
            "messages": per_audience,
            "deliveries": deliveries,
            "reminders": sorted(
                (r["kind"], r["subject_id"], r["child_id"], r["status"], r["fire_at"], r["deadline"], r["payload"])
                for r in await conn.fetch(
                    "SELECT kind, subject_id, child_id, status, fire_at, deadline, payload::text AS payload FROM reminder"
                )
            ),
            "outbox": outgoing,
            "parked": sorted(
                (r["awaits"], r["event_id"]) for r in await conn.fetch("SELECT awaits, event_id FROM parked_event")
            ),
            "dead_letters": await conn.fetchval("SELECT count(*) FROM dead_letter"),
            "inbox": await conn.fetchval("SELECT count(*) FROM inbox"),
        }
    finally:
        await conn.close()


async def test_a_rounds_results_batched_equal_the_per_event_path_with_duplicates_redelivery_and_parking(
    two_consumers: tuple[tuple[str, EventConsumer], tuple[str, EventConsumer]],
) -> None:
    (many_url, batched), (one_url, per_event) = two_consumers
    round_id = uuid4()
    children = [uuid4() for _ in range(40)]
    late = children[30:]  # their guardians arrive after their results
    first_guardian = {child: uuid4() for child in children}
    second_guardian = {child: uuid4() for child in children[:10]}  # two guardians each
    ended = children[10:15]  # their only guardianship ended: known, nobody to tell
    applications = [submitted(child, round_id) for child in children]
    assign_by = date.today() + timedelta(days=30)

    for url in (many_url, one_url):  # e-mail and SMS addresses for some guardians (the consumer only sees presence)
        conn = await asyncpg.connect(url)
        try:
            for i, child in enumerate(children[:20]):
                await conn.execute(
                    "INSERT INTO preference (person_id, email_enc, phone_enc, channels) VALUES ($1, $2, $3, $4::jsonb)",
                    first_guardian[child],
                    b"sealed",
                    b"sealed" if i % 2 else None,
                    json.dumps({}),
                )
        finally:
            await conn.close()

    registry: list[IntegrationEvent] = []
    for child in children[:30]:
        registry.append(guardian_of(child, first_guardian[child]))
        if child in second_guardian:
            registry.append(guardian_of(child, second_guardian[child]))
    registry += [GuardianshipEndedV1(child_id=child, guardian_id=first_guardian[child]) for child in ended]

    results: list[IntegrationEvent] = []
    for i, application in enumerate(applications):
        if i % 4 == 0:
            results.append(awarded(application, assign_by=assign_by))
        else:
            results.append(waitlisted(application, i))
    moved = [waitlisted(applications[i], i + 100) for i in range(1, 40, 4)]  # a second place in the same poll
    same_place = [waitlisted(applications[i], i) for i in range(2, 40, 8)]  # the same place again, a new event id
    reoffers: list[IntegrationEvent] = [
        awarded(applications[i], assign_by=assign_by) for i in range(1, 40, 8)
    ]  # waited, then a voucher

    polls: list[list[IntegrationEvent]] = [
        registry,
        [*applications[:20], round_closed(round_id), *applications[20:], *applications[18:22]],  # some twice
        results[:20] + moved[:5] + results[20:] + moved[5:] + same_place + results[5:8],  # three twice in one poll
        results[25:35],  # delivered again
        reoffers,
        [guardian_of(child, first_guardian[child]) for child in late],  # releases the parked
    ]
    for poll in polls:
        outcomes_many = await batched.deliver_batch([message(e) for e in poll])
        outcomes_one = await per_event.deliver_batch([message(e) for e in poll])
        assert outcomes_many == outcomes_one
        assert Outcome.DEAD_LETTERED not in outcomes_many

    many, one = await state(many_url), await state(one_url)
    assert many == one
    assert many["dead_letters"] == 0 and many["parked"] == []
    told = {audience for audience in many["messages"]}
    assert told == {f"person:{g}" for c, g in first_guardian.items() if c not in ended} | {
        f"person:{g}" for g in second_guardian.values()
    }
    kinds = [kind for messages in many["messages"].values() for _, kind, *_ in messages]
    assert kinds.count("round_closed") == 40 - len(ended) + len(second_guardian)
    assert many["deliveries"]  # the addresses planned e-mails and texts
    assert len(many["reminders"]) == 10 + len(reoffers)


async def test_results_before_any_guardianship_all_park_and_apply_once_when_the_guardians_arrive(
    two_consumers: tuple[tuple[str, EventConsumer], tuple[str, EventConsumer]],
) -> None:
    (many_url, batched), (one_url, per_event) = two_consumers
    round_id = uuid4()
    children = [uuid4() for _ in range(30)]
    guardians = {child: uuid4() for child in children}
    applications = [submitted(child, round_id) for child in children]
    results: list[IntegrationEvent] = [
        awarded(a) if i < 5 else waitlisted(a, i - 4) for i, a in enumerate(applications)
    ]
    results += [waitlisted(a, 1) for a in applications[10:15]]  # a later place of some: parks behind the first

    for consumer in (batched, per_event):
        assert set(await consumer.deliver_batch([message(e) for e in results])) == {Outcome.APPLIED}
    parked_many, parked_one = (await state(many_url))["parked"], (await state(one_url))["parked"]
    assert parked_many == parked_one and len(parked_many) == len(results)

    for consumer in (batched, per_event):
        await consumer.deliver_batch([message(guardian_of(c, guardians[c])) for c in children])
        await consumer.deliver_batch([message(e) for e in results])  # redelivered: duplicates

    many, one = await state(many_url), await state(one_url)
    assert many == one
    assert many["parked"] == [] and many["dead_letters"] == 0
    assert sum(len(told) for told in many["messages"].values()) == len(results)
