"""Batch consumption against a real database: one transaction per poll, duplicates, poison, parking, order, Many."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date

import pytest
from sqlalchemy import BigInteger, Column, Identity, MetaData, Table, Text, func, insert, select, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from qosym_chassis import dead_letters, inbox, outbox, parking
from qosym_chassis.consumer import EventConsumer, IncomingMessage, Many, Outcome, Park, Reject
from qosym_chassis.db import make_session_factory
from qosym_contracts.envelope import IntegrationEvent
from qosym_contracts.registry import ChildRegisteredV1, GuardianshipEndedV1, GuardianshipEstablishedV1

pytestmark = pytest.mark.component

metadata = MetaData()
applied = Table(
    "applied_event",
    metadata,
    Column("seq", BigInteger, Identity(always=True), primary_key=True),
    Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("msg_key", Text, nullable=False),
    Column("what", Text, nullable=False),
)
child = Table("child_seen", metadata, Column("child_id", UUID(as_uuid=True), primary_key=True))


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncEngine:
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    return engine


def consumer_for(engine: AsyncEngine, max_attempts: int = 2, batch_max: int = 256) -> EventConsumer:
    return EventConsumer(
        service="test",
        engine=engine,
        session_factory=make_session_factory(engine),
        max_attempts=max_attempts,
        backoff_base_s=0.01,
        backoff_max_s=0.02,
        batch_max=batch_max,
    )


def message(event: IntegrationEvent) -> IncomingMessage:
    return IncomingMessage(topic=event.topic, body=event.model_dump_json().encode(), key=event.message_key)


def registered(child_id: uuid.UUID | None = None) -> ChildRegisteredV1:
    return ChildRegisteredV1(
        child_id=child_id or uuid.uuid4(),
        guardian_id=uuid.uuid4(),
        birth_date=date(2016, 1, 1),
        sex="F",
        region_code="astana",
        district_code="yesil",
    )


async def note(session: AsyncSession, event: IntegrationEvent, what: str) -> None:
    await session.execute(insert(applied).values(event_id=event.event_id, msg_key=event.message_key, what=what))


async def on_child(session: AsyncSession, event: ChildRegisteredV1) -> None:
    await session.execute(insert(child).values(child_id=event.child_id))
    await note(session, event, "child")
    await parking.provided(session, f"child:{event.child_id}")


async def on_guardian(session: AsyncSession, event: GuardianshipEstablishedV1) -> None:
    await note(session, event, f"guardian {event.guardian_id}")  # rolled back with the savepoint when it parks
    if (await session.execute(select(child.c.child_id).where(child.c.child_id == event.child_id))).first() is None:
        raise Park(f"child:{event.child_id}")


async def on_ended(session: AsyncSession, event: GuardianshipEndedV1) -> None:
    await note(session, event, f"ended {event.guardian_id}")


async def applied_rows(engine: AsyncEngine) -> list[tuple[str, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(applied.c.msg_key, applied.c.what).order_by(applied.c.seq))
        return [(r.msg_key, r.what) for r in rows]


async def count(engine: AsyncEngine, table: Table) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_a_batch_applies_each_event_once_and_skips_what_the_inbox_or_the_batch_already_holds(db):
    consumer = consumer_for(db)
    consumer.on(ChildRegisteredV1, on_child)
    earlier, fresh = registered(), [registered() for _ in range(5)]
    assert await consumer.deliver(message(earlier)) is Outcome.APPLIED
    batch = [message(fresh[0]), message(earlier), *map(message, fresh[1:3]), message(fresh[0]), message(fresh[3])]
    batch += [IncomingMessage(topic="registry.child.v1", body=b'{"event_type": "x.Other"}'), message(fresh[4])]

    outcomes = await consumer.deliver_batch(batch)

    assert outcomes == [
        Outcome.APPLIED,
        Outcome.DUPLICATE,  # in the inbox already
        Outcome.APPLIED,
        Outcome.APPLIED,
        Outcome.DUPLICATE,  # twice in the same poll
        Outcome.APPLIED,
        Outcome.IGNORED,
        Outcome.APPLIED,
    ]
    assert [what for _, what in await applied_rows(db)] == ["child"] * 6
    assert await count(db, inbox.INBOX) == 6
    assert await consumer.deliver_batch(batch) == [
        Outcome.DUPLICATE if o is not Outcome.IGNORED else o for o in outcomes
    ]  # a redelivery of the whole poll changes nothing
    assert await count(db, applied) == 6


async def test_a_poison_event_in_the_middle_is_dead_lettered_and_the_rest_applied_once(db):
    """The failing event is retried alone (the per-event path: every attempt, then a dead letter), a rejected one is
    a dead letter at once, malformed bytes too; every other event of the batch is applied exactly once."""
    calls: dict[uuid.UUID, int] = {}
    poison, refused = registered(), registered()

    async def handler(session: AsyncSession, event: ChildRegisteredV1) -> None:
        calls[event.event_id] = calls.get(event.event_id, 0) + 1
        await note(session, event, "child")
        if event.event_id == poison.event_id:
            raise ValueError("bug in handler")
        if event.event_id == refused.event_id:
            raise Reject("unknown region")

    consumer = consumer_for(db, max_attempts=3)
    consumer.on(ChildRegisteredV1, handler)
    good = [registered() for _ in range(8)]
    events = [*good[:3], poison, *good[3:5], refused, *good[5:]]
    batch = [*map(message, events)]
    batch.insert(5, IncomingMessage(topic="registry.child.v1", body=b"\xff not json"))

    outcomes = await consumer.deliver_batch(batch)

    assert (
        outcomes
        == [Outcome.APPLIED] * 3
        + [Outcome.DEAD_LETTERED]
        + [Outcome.APPLIED]
        + [Outcome.DEAD_LETTERED]
        + [Outcome.APPLIED]
        + [Outcome.DEAD_LETTERED]
        + [Outcome.APPLIED] * 3
    )
    async with db.connect() as conn:
        kept = set((await conn.execute(select(applied.c.event_id))).scalars())
    assert kept == {e.event_id for e in good}
    # applied without savepoints until the poison failed: what came before it in its transaction ran again (rolled
    # back the first time), what came after ran once
    assert [calls[e.event_id] for e in good] == [2, 2, 2, 2, 2, 1, 1, 1]
    assert calls[poison.event_id] == 3 and calls[refused.event_id] == 1
    letters = {d.event_id: d for d in await dead_letters.list_dead_letters(db)}
    assert set(letters) == {poison.event_id, refused.event_id, None}
    assert letters[poison.event_id].attempts == 3 and "bug in handler" in letters[poison.event_id].error
    assert letters[refused.event_id].attempts == 1 and "rejected" in letters[refused.event_id].error
    assert letters[None].error.startswith("malformed message")
    async with db.connect() as conn:
        claimed = set((await conn.execute(select(inbox.INBOX.c.event_id))).scalars())
    assert claimed == {e.event_id for e in good}  # a dead letter holds no inbox row: an operator's retry applies it


async def test_a_failure_at_commit_splits_the_batch_until_the_poison_event_is_alone(db):
    """A deferred constraint fails only at COMMIT, naming no event: the batch is halved until the event is alone."""
    async with db.begin() as conn:
        await conn.exec_driver_sql("CREATE TABLE deferred_check (event_id uuid PRIMARY KEY, ok boolean NOT NULL)")
        await conn.exec_driver_sql(
            "CREATE FUNCTION refuse_not_ok() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN IF NOT NEW.ok THEN RAISE EXCEPTION 'not ok at commit'; END IF; RETURN NULL; END $$"
        )
        await conn.exec_driver_sql(
            "CREATE CONSTRAINT TRIGGER at_commit AFTER INSERT ON deferred_check DEFERRABLE INITIALLY DEFERRED"
            " FOR EACH ROW EXECUTE FUNCTION refuse_not_ok()"
        )
    events = [registered() for _ in range(9)]
    poison = events[6]
    calls: dict[uuid.UUID, int] = {}

    async def handler(session: AsyncSession, event: ChildRegisteredV1) -> None:
        calls[event.event_id] = calls.get(event.event_id, 0) + 1
        await note(session, event, "child")
        await session.execute(
            text("INSERT INTO deferred_check VALUES (:id, :ok)"),
            {"id": event.event_id, "ok": event.event_id != poison.event_id},
        )

    consumer = consumer_for(db, max_attempts=2)
    consumer.on(ChildRegisteredV1, handler)
    outcomes = await consumer.deliver_batch([*map(message, events)])

    assert outcomes == [Outcome.APPLIED] * 6 + [Outcome.DEAD_LETTERED] + [Outcome.APPLIED] * 2
    async with db.connect() as conn:
        kept = set((await conn.execute(select(applied.c.event_id))).scalars())
    assert kept == {e.event_id for e in events} - {poison.event_id}
    [letter] = await dead_letters.list_dead_letters(db)
    assert (letter.event_id, letter.attempts, "not ok at commit" in letter.error) == (poison.event_id, 2, True)


async def test_a_park_in_the_middle_keeps_its_key_behind_it_and_the_rest_applied(db):
    consumer = consumer_for(db, max_attempts=1)
    consumer.on(ChildRegisteredV1, on_child)
    consumer.on(GuardianshipEstablishedV1, on_guardian)
    consumer.on(GuardianshipEndedV1, on_ended)
    waiting_child, other = uuid.uuid4(), registered()
    waiting = GuardianshipEstablishedV1(child_id=waiting_child, guardian_id=uuid.uuid4())
    later = GuardianshipEndedV1(child_id=waiting_child, guardian_id=waiting.guardian_id)
    unrelated = GuardianshipEndedV1(child_id=uuid.uuid4(), guardian_id=uuid.uuid4())
    known = GuardianshipEstablishedV1(child_id=other.child_id, guardian_id=uuid.uuid4())

    outcomes = await consumer.deliver_batch([message(e) for e in (other, waiting, unrelated, later, known)])

    assert outcomes == [Outcome.APPLIED] * 5  # parked counts as handled: acknowledged, never retried
    assert await applied_rows(db) == [
        (str(other.child_id), "child"),
        (str(unrelated.child_id), f"ended {unrelated.guardian_id}"),
        (str(other.child_id), f"guardian {known.guardian_id}"),
    ]
    assert [p.event_id for p in await parking.list_parked(db)] == [waiting.event_id, later.event_id]
    assert await dead_letters.unresolved_count(db) == 0

    # the child arrives in the next poll: its parked events follow it, in arrival order, before the rest
    after = GuardianshipEndedV1(child_id=waiting_child, guardian_id=uuid.uuid4())
    assert await consumer.deliver_batch([message(registered(waiting_child)), message(after)]) == [Outcome.APPLIED] * 2
    assert [what for key, what in await applied_rows(db) if key == str(waiting_child)] == [
        "child",
        f"guardian {waiting.guardian_id}",
        f"ended {waiting.guardian_id}",
        f"ended {after.guardian_id}",
    ]
    assert await parking.list_parked(db) == []


async def test_a_batch_keeps_each_keys_order_through_a_failure_that_a_retry_heals(db):
    """Events of three keys interleaved; one event fails once (a transient fault): it is applied on its retry, and
    no later event of its key is applied before it."""
    flaky: set[uuid.UUID] = set()

    async def handler(session: AsyncSession, event: GuardianshipEndedV1) -> None:
        if event.event_id in flaky:
            flaky.discard(event.event_id)
            raise RuntimeError("transient")
        await note(session, event, str(event.guardian_id))

    consumer = consumer_for(db, max_attempts=3)
    consumer.on(GuardianshipEndedV1, handler)
    children = [uuid.uuid4() for _ in range(3)]
    events = [GuardianshipEndedV1(child_id=children[n % 3], guardian_id=uuid.uuid4()) for n in range(30)]
    flaky.add(events[7].event_id)

    assert await consumer.deliver_batch([*map(message, events)]) == [Outcome.APPLIED] * 30

    rows = await applied_rows(db)
    for child_id in children:
        assert [what for key, what in rows if key == str(child_id)] == [
            str(e.guardian_id) for e in events if e.child_id == child_id
        ]
    assert await dead_letters.unresolved_count(db) == 0


async def test_a_many_handler_gets_consecutive_events_of_its_type_together_and_parks_what_it_returns(db):
    runs: list[list[str]] = []

    async def on_many_guardians(
        deps: str, session: AsyncSession, events: Sequence[GuardianshipEstablishedV1]
    ) -> Mapping[uuid.UUID, str]:
        runs.append([str(e.guardian_id) for e in events])
        known = set(
            (
                await session.execute(
                    select(child.c.child_id).where(child.c.child_id.in_([e.child_id for e in events]))
                )
            ).scalars()
        )
        ready = [e for e in events if e.child_id in known]
        if ready:
            await session.execute(
                insert(applied),
                [{"event_id": e.event_id, "msg_key": e.message_key, "what": f"{deps} {e.guardian_id}"} for e in ready],
            )
            await outbox.add_events(session, ready)
        return {e.event_id: f"child:{e.child_id}" for e in events if e.child_id not in known}

    async def on_child_with(deps: str, session: AsyncSession, event: ChildRegisteredV1) -> None:
        await on_child(session, event)

    consumer = consumer_for(db, max_attempts=1)
    consumer.route({ChildRegisteredV1: on_child_with, GuardianshipEstablishedV1: Many(on_many_guardians)}, "many")
    first, second, missing = registered(), registered(), uuid.uuid4()
    one = [GuardianshipEstablishedV1(child_id=first.child_id, guardian_id=uuid.uuid4()) for _ in range(3)]
    two = [GuardianshipEstablishedV1(child_id=second.child_id, guardian_id=uuid.uuid4()) for _ in range(2)]
    lost = GuardianshipEstablishedV1(child_id=missing, guardian_id=uuid.uuid4())

    batch = [first, second, *one, lost, *two, registered()]
    assert await consumer.deliver_batch([*map(message, batch)]) == [Outcome.APPLIED] * len(batch)

    assert runs == [  # one call for the six, in order; the one it parked asked again under its key's lock
        [str(e.guardian_id) for e in (*one, lost, *two)],
        [str(lost.guardian_id)],
    ]
    assert [what for _, what in await applied_rows(db) if what != "child"] == [
        f"many {e.guardian_id}" for e in (*one, *two)
    ]
    assert [(p.event_id, p.awaits) for p in await parking.list_parked(db)] == [(lost.event_id, f"child:{missing}")]
    async with db.connect() as conn:
        staged = list((await conn.execute(select(outbox.OUTBOX.c.event_id).order_by(outbox.OUTBOX.c.id))).scalars())
    assert staged == [e.event_id for e in (*one, *two)]  # one multi-row outbox insert, in the given order

    # its child arrives: the parked event is applied through the same handler, alone
    assert await consumer.deliver_batch([message(registered(missing))]) == [Outcome.APPLIED]
    assert runs[-1] == [str(lost.guardian_id)]
    assert (str(missing), f"many {lost.guardian_id}") in await applied_rows(db)
    assert await parking.list_parked(db) == []


async def test_a_many_handler_that_applies_a_key_after_parking_it_falls_back_to_one_event_at_a_time(db):
    """A set-based handler must not apply a later event of a key it parked: the run is rolled back and applied one
    event at a time, so the later one parks behind the earlier (another key's event is applied)."""
    child_id = uuid.uuid4()
    waiting = GuardianshipEstablishedV1(child_id=child_id, guardian_id=uuid.uuid4())
    later = GuardianshipEstablishedV1(child_id=child_id, guardian_id=uuid.uuid4())
    elsewhere = GuardianshipEstablishedV1(child_id=uuid.uuid4(), guardian_id=uuid.uuid4())
    sizes: list[int] = []

    async def careless(session: AsyncSession, events: Sequence[GuardianshipEstablishedV1]) -> Mapping[uuid.UUID, str]:
        sizes.append(len(events))
        for event in events:
            if event.event_id != waiting.event_id:
                await note(session, event, str(event.guardian_id))
        return {waiting.event_id: f"child:{child_id}"} if waiting in events else {}

    consumer = consumer_for(db, max_attempts=1)
    consumer.on_many(GuardianshipEstablishedV1, careless)

    assert await consumer.deliver_batch([message(e) for e in (waiting, later, elsewhere)]) == [Outcome.APPLIED] * 3
    # the run; then one at a time: the first, without a savepoint, parks, so the transaction starts again with
    # savepoints: the run, then the first (parks, re-checked once under its lock), the second behind it, the third
    assert sizes == [3, 1, 3, 1, 1, 1, 1]
    assert await applied_rows(db) == [(str(elsewhere.child_id), str(elsewhere.guardian_id))]
    assert [p.event_id for p in await parking.list_parked(db)] == [waiting.event_id, later.event_id]


async def test_batch_max_one_is_the_per_event_path(db):
    consumer = consumer_for(db, batch_max=1)
    consumer.on(ChildRegisteredV1, on_child)
    event = registered()
    assert await consumer.deliver(message(event)) is Outcome.APPLIED
    assert await consumer.deliver(message(event)) is Outcome.DUPLICATE
    assert await count(db, applied) == 1


async def test_an_event_applied_in_a_batch_continues_the_trace_it_was_staged_in(db):
    """The span of each event of a poll is a child of its message's traceparent, with the handler's work inside."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from qosym_chassis.telemetry import setup_tracing

    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = setup_tracing("chassis-test", "consumers")
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    consumer = consumer_for(db)
    consumer.on(ChildRegisteredV1, on_child)
    staged = [(registered(), f"{n + 1:032x}") for n in range(3)]
    batch = [
        IncomingMessage(
            topic=event.topic,
            body=event.model_dump_json().encode(),
            key=event.message_key,
            headers={"traceparent": f"00-{trace_id}-{n + 1:016x}-01"},
        )
        for n, (event, trace_id) in enumerate(staged)
    ]
    assert await consumer.deliver_batch(batch) == [Outcome.APPLIED] * 3
    spans = [s for s in exporter.get_finished_spans() if s.name == "registry.child.v1 process"]
    assert sorted(format(s.context.trace_id, "032x") for s in spans) == sorted(t for _, t in staged)
    for span in spans:
        assert span.parent is not None and span.parent.is_remote


async def test_a_many_handler_providing_a_burst_of_keys_releases_what_each_key_held_in_arrival_order(db):
    """``parking.provided_all``: a set-based handler brings many keys at once (a round's burst of awards); the
    consumer looks once for what waits on any of them and applies each key's parked events in arrival order."""

    async def on_many_children(deps: str, session: AsyncSession, events: Sequence[ChildRegisteredV1]) -> dict:
        await session.execute(insert(child), [{"child_id": e.child_id} for e in events])
        await session.execute(
            insert(applied), [{"event_id": e.event_id, "msg_key": e.message_key, "what": "child"} for e in events]
        )
        await parking.provided_all(session, (f"child:{e.child_id}" for e in events))
        return {}

    async def on_guardian_with(deps: str, session: AsyncSession, event: GuardianshipEstablishedV1) -> None:
        await on_guardian(session, event)

    consumer = consumer_for(db, max_attempts=1)
    consumer.route({ChildRegisteredV1: Many(on_many_children), GuardianshipEstablishedV1: on_guardian_with}, "deps")
    children = [registered() for _ in range(40)]
    early = [GuardianshipEstablishedV1(child_id=children[i].child_id, guardian_id=uuid.uuid4()) for i in (7, 3, 7, 30)]
    assert await consumer.deliver_batch([*map(message, early)]) == [Outcome.APPLIED] * len(early)
    assert {p.awaits for p in await parking.list_parked(db)} == {f"child:{children[i].child_id}" for i in (7, 3, 30)}

    assert await consumer.deliver_batch([*map(message, children)]) == [Outcome.APPLIED] * len(children)

    assert await parking.list_parked(db) == []
    rows = await applied_rows(db)
    guardians = [(key, what) for key, what in rows if what != "child"]
    assert sorted(guardians) == sorted((e.message_key, f"guardian {e.guardian_id}") for e in early)
    seven = [what for key, what in guardians if key == children[7].message_key]
    assert seven == [f"guardian {early[0].guardian_id}", f"guardian {early[2].guardian_id}"]  # arrival order
    assert await count(db, child) == 40
