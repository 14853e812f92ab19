"""Insights' set-based projections (``Many``: children, applications, waitlist places, awards) equal the per-event
ones: the same events in the same polls to two databases, one consumer as the consumers process registers it, one
with the per-event handlers in their place, end with the same rows in every table, in any order of arrival, with
several events of one key in one poll, an event twice in one poll and whole polls delivered again."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from conftest import service_settings
from insights.bootstrap import dependencies
from insights.config import InsightsSettings
from insights.entrypoints.consumers import SUBSCRIPTIONS, register
from insights.service_layer import projections as p
from qosym_chassis.consumer import EventConsumer, Outcome, Subscriptions
from qosym_chassis.context import ServiceContext, build_context
from qosym_contracts import allocation, registry
from qosym_contracts.envelope import IntegrationEvent
from tests.support.events import message

from .support import seeded_demo

pytestmark = pytest.mark.component

PER_EVENT: Subscriptions[Any] = {
    **SUBSCRIPTIONS,
    registry.ChildRegisteredV1: p.on_child_details,
    registry.ChildDetailsChangedV1: p.on_child_details,
    allocation.ApplicationSubmittedV1: p.on_application_submitted,
    allocation.ApplicationWaitlistedV1: p.on_application_waitlisted,
    allocation.VoucherAwardedV1: p.on_voucher_awarded,
}
TABLES = ("region", "child", "round", "application", "voucher", "programme", "enrolment", "timesheet", "accrual")


@pytest.fixture
async def two_consumers(
    service_db: Callable[[str], Awaitable[str]], stack_servers: Any, jwks_url: str
) -> AsyncIterator[tuple[tuple[str, EventConsumer], tuple[str, EventConsumer]]]:
    contexts: list[ServiceContext] = []

    def context(url: str) -> ServiceContext:
        ctx = build_context(service_settings("insights", stack_servers, url, jwks_url), "consumers")
        contexts.append(ctx)
        return ctx

    many_url, one_url = await service_db("insights"), await service_db("insights")
    ctx = context(many_url)
    batched = EventConsumer(service="insights", engine=ctx.engine, session_factory=ctx.session_factory)
    register(batched, ctx)
    ctx = context(one_url)
    assert isinstance(ctx.settings, InsightsSettings)
    per_event = EventConsumer(service="insights", engine=ctx.engine, session_factory=ctx.session_factory)
    per_event.route(PER_EVENT, dependencies(ctx.settings, ctx))
    yield (many_url, batched), (one_url, per_event)
    for made in contexts:
        await made.redis.aclose()
        await made.engine.dispose()


async def state(url: str) -> dict[str, Any]:
    conn = await asyncpg.connect(url)
    try:
        found: dict[str, Any] = {}
        for table in (*TABLES, "freshness", "payout"):
            rows = await conn.fetch(f'SELECT * FROM "{table}"')
            found[table] = sorted(tuple(map(str, r.values())) for r in rows)
        found["dead_letters"] = await conn.fetchval("SELECT count(*) FROM dead_letter")
        found["inbox"] = await conn.fetchval("SELECT count(*) FROM inbox")
        return found
    finally:
        await conn.close()


def with_repeats(events: list[IntegrationEvent]) -> list[IntegrationEvent]:
    """The demo's events, plus later facts of the same keys: second waitlist places (a later time: the first stays),
    corrected child details (one at the same time as the registration: that changes nothing), a resubmission."""
    extra: list[IntegrationEvent] = []
    for e in events:
        if isinstance(e, allocation.ApplicationWaitlistedV1):
            later = e.occurred_at + timedelta(days=3)
            extra.append(e.model_copy(update={"event_id": UUID(int=e.event_id.int ^ 1), "occurred_at": later}))
        if isinstance(e, registry.ChildRegisteredV1):
            for shift, district in ((0, "baikonur"), (5, "yesil")):
                extra.append(
                    registry.ChildDetailsChangedV1(
                        child_id=e.child_id,
                        birth_date=e.birth_date,
                        sex=e.sex,
                        region_code=e.region_code,
                        district_code=district,
                        occurred_at=e.occurred_at + timedelta(minutes=shift),
                    )
                )
        if isinstance(e, allocation.ApplicationSubmittedV1) and e.application_id.int % 5 == 0:
            extra.append(e.model_copy(update={"event_id": UUID(int=e.event_id.int ^ 2), "direction": "creativity"}))
    return events + extra


@pytest.mark.parametrize("order", [None, 3])
async def test_the_set_based_projections_leave_the_same_rows_as_the_per_event_ones(
    two_consumers: tuple[tuple[str, EventConsumer], tuple[str, EventConsumer]], order: int | None
) -> None:
    (many_url, batched), (one_url, per_event) = two_consumers
    events = with_repeats(list(seeded_demo().events))
    if order is not None:  # any order of arrival (a rebuild reading the topics one after another, say)
        random.Random(order).shuffle(events)
    else:  # the topics one after another, as a new consumer reading from the beginning meets them
        events.sort(key=lambda e: e.topic)
    polls = [events[i : i + 64] for i in range(0, len(events), 64)]
    polls = [poll + poll[:3] for poll in polls]  # three events twice in each poll
    polls += polls[::4]  # some polls delivered again
    for poll in polls:
        outcomes_many = await batched.deliver_batch([message(e) for e in poll])
        outcomes_one = await per_event.deliver_batch([message(e) for e in poll])
        assert outcomes_many == outcomes_one
        assert set(outcomes_many) <= {Outcome.APPLIED, Outcome.DUPLICATE, Outcome.IGNORED}
    many, one = await state(many_url), await state(one_url)
    assert many == one
    assert many["dead_letters"] == 0 and many["application"] and many["voucher"] and many["child"]
