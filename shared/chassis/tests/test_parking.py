"""Parking against a real database: an event whose prerequisite comes later waits, then is applied once, in order."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import BigInteger, Column, Identity, MetaData, Table, Text, func, insert, select
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from qosym_chassis import dead_letters, parking
from qosym_chassis.consumer import EventConsumer, IncomingMessage, Outcome, Park
from qosym_chassis.db import make_session_factory
from qosym_contracts.envelope import IntegrationEvent
from qosym_contracts.registry import ChildRegisteredV1, GuardianshipEndedV1, GuardianshipEstablishedV1

pytestmark = pytest.mark.component

metadata = MetaData()
child = Table("child_seen", metadata, Column("child_id", UUID(as_uuid=True), primary_key=True))
applied = Table(
    "applied_event",
    metadata,
    Column("seq", BigInteger, Identity(always=True), primary_key=True),
    Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("what", Text, nullable=False),
)


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncEngine:
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    return engine


async def on_child(session: AsyncSession, event: ChildRegisteredV1) -> None:
    await session.execute(insert(child).values(child_id=event.child_id))
    await session.execute(insert(applied).values(event_id=event.event_id, what="child"))
    await parking.provided(session, f"child:{event.child_id}")


async def on_guardian(session: AsyncSession, event: GuardianshipEstablishedV1) -> None:
    await session.execute(insert(applied).values(event_id=event.event_id, what=f"guardian {event.guardian_id}"))
    known = (await session.execute(select(child.c.child_id).where(child.c.child_id == event.child_id))).first()
    if known is None:  # the insert above is rolled back with the savepoint
        raise Park(f"child:{event.child_id}")


async def on_ended(session: AsyncSession, event: GuardianshipEndedV1) -> None:
    """Needs nothing: it only has to come after the guardianship of its child that arrived before it."""
    await session.execute(insert(applied).values(event_id=event.event_id, what=f"ended {event.guardian_id}"))


def consumer_for(engine: AsyncEngine) -> EventConsumer:
    consumer = EventConsumer(
        service="test",
        engine=engine,
        session_factory=make_session_factory(engine),
        max_attempts=1,  # parking must not spend a retry: a single attempt is enough
        backoff_base_s=0.01,
        backoff_max_s=0.02,
    )
    consumer.on(ChildRegisteredV1, on_child)
    consumer.on(GuardianshipEstablishedV1, on_guardian)
    consumer.on(GuardianshipEndedV1, on_ended)
    return consumer


def message(event: IntegrationEvent) -> IncomingMessage:
    return IncomingMessage(topic=event.topic, body=event.model_dump_json().encode(), key=event.message_key)


def registered(child_id: uuid.UUID) -> ChildRegisteredV1:
    return ChildRegisteredV1(
        child_id=child_id,
        guardian_id=uuid.uuid4(),
        birth_date=date(2016, 1, 1),
        sex="F",
        region_code="astana",
        district_code="yesil",
    )


async def applied_in_order(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return [r.what for r in await conn.execute(select(applied.c.what).order_by(applied.c.seq))]


async def parked_count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        value = (await conn.execute(select(func.count()).select_from(parking.PARKED))).scalar_one()
    return int(value)


async def test_events_waiting_for_a_child_are_parked_then_applied_once_in_arrival_order(db):
    consumer = consumer_for(db)
    child_id = uuid.uuid4()
    first = GuardianshipEstablishedV1(child_id=child_id, guardian_id=uuid.uuid4())
    second = GuardianshipEstablishedV1(child_id=child_id, guardian_id=uuid.uuid4())

    assert await consumer.deliver(message(first)) is Outcome.APPLIED  # handled: parked, and acknowledged
    assert await consumer.deliver(message(second)) is Outcome.APPLIED
    assert await consumer.deliver(message(first)) is Outcome.DUPLICATE  # a redelivery is not parked twice
    assert await parked_count(db) == 2
    assert await applied_in_order(db) == []

    assert await consumer.deliver(message(registered(child_id))) is Outcome.APPLIED
    assert await applied_in_order(db) == ["child", f"guardian {first.guardian_id}", f"guardian {second.guardian_id}"]
    assert await parked_count(db) == 0
    assert await consumer.deliver(message(first)) is Outcome.DUPLICATE  # applied once, whatever comes again
    assert await applied_in_order(db) == ["child", f"guardian {first.guardian_id}", f"guardian {second.guardian_id}"]
    assert await dead_letters.unresolved_count(db) == 0  # parking never dead-letters


async def test_a_later_event_of_the_same_aggregate_does_not_overtake_a_parked_one(db):
    consumer = consumer_for(db)
    child_id, other_child = uuid.uuid4(), uuid.uuid4()
    waiting = GuardianshipEstablishedV1(child_id=child_id, guardian_id=uuid.uuid4())
    later = GuardianshipEndedV1(child_id=child_id, guardian_id=waiting.guardian_id)
    unrelated = GuardianshipEndedV1(child_id=other_child, guardian_id=uuid.uuid4())

    assert await consumer.deliver(message(waiting)) is Outcome.APPLIED
    assert await parked_count(db) == 1
    assert await consumer.deliver(message(later)) is Outcome.APPLIED  # parked behind the parked one of its child
    assert await parked_count(db) == 2
    assert await consumer.deliver(message(unrelated)) is Outcome.APPLIED  # another aggregate is not held up
    assert await applied_in_order(db) == [f"ended {unrelated.guardian_id}"]

    assert await consumer.deliver(message(registered(child_id))) is Outcome.APPLIED
    assert await applied_in_order(db) == [
        f"ended {unrelated.guardian_id}",
        "child",
        f"guardian {waiting.guardian_id}",
        f"ended {waiting.guardian_id}",
    ]
    assert await parked_count(db) == 0


async def test_many_parked_events_never_block_and_never_dead_letter(db):
    consumer = consumer_for(db)
    children = [uuid.uuid4() for _ in range(40)]
    waiting = [GuardianshipEstablishedV1(child_id=c, guardian_id=uuid.uuid4()) for c in children]
    outcomes = [await consumer.deliver(message(e)) for e in waiting]
    assert set(outcomes) == {Outcome.APPLIED}
    assert await parked_count(db) == len(waiting)
    for child_id in reversed(children):
        assert await consumer.deliver(message(registered(child_id))) is Outcome.APPLIED
    assert sorted(w for w in await applied_in_order(db) if w != "child") == sorted(
        f"guardian {e.guardian_id}" for e in waiting
    )
    assert await parked_count(db) == 0
    assert await dead_letters.unresolved_count(db) == 0


async def test_an_old_parked_event_is_reported_released_and_dead_lettered_by_an_operator(db):
    consumer = consumer_for(db)
    child_id, lost_child = uuid.uuid4(), uuid.uuid4()
    waiting = GuardianshipEstablishedV1(child_id=child_id, guardian_id=uuid.uuid4())
    lost = GuardianshipEstablishedV1(child_id=lost_child, guardian_id=uuid.uuid4())
    await consumer.deliver(message(waiting))
    await consumer.deliver(message(lost))

    assert await parking.count(db, older_than=timedelta(hours=1)) == 0  # not overdue yet
    assert await parking.count(db, older_than=timedelta(0)) == 2
    listed = await parking.list_parked(db, older_than=timedelta(0))
    assert [(p.event_id, p.awaits) for p in listed] == [
        (waiting.event_id, f"child:{child_id}"),
        (lost.event_id, f"child:{lost_child}"),
    ]

    # released while the child is still unknown: it stays parked, in its place, saying so
    assert await parking.request_release(db, [listed[0].id]) == 1
    assert await consumer.release_requested_parked() == 0
    still = await parking.list_parked(db)
    assert [p.event_id for p in still] == [waiting.event_id, lost.event_id]
    assert still[0].release_requested_at is None and "still waits" in (still[0].last_error or "")

    # the child became known without an event this consumer saw (e.g. repaired by hand): release applies it
    async with db.begin() as conn:
        await conn.execute(insert(child).values(child_id=child_id))
    await parking.request_release(db, [listed[0].id])
    assert await consumer.release_requested_parked() == 1
    assert await applied_in_order(db) == [f"guardian {waiting.guardian_id}"]

    # the other one is given up on: a dead letter, which the operator's retry applies once its child is known
    assert await parking.dead_letter(db, [listed[1].id]) == 1
    assert await parked_count(db) == 0
    letters = await dead_letters.list_dead_letters(db)
    assert [(d.event_id, "awaiting child:" in d.error) for d in letters] == [(lost.event_id, True)]
    async with db.begin() as conn:
        await conn.execute(insert(child).values(child_id=lost_child))
    await dead_letters.request_retry(db)
    assert await consumer.retry_requested_dead_letters() == 1
    assert await applied_in_order(db) == [f"guardian {waiting.guardian_id}", f"guardian {lost.guardian_id}"]
    assert await dead_letters.unresolved_count(db) == 0
