"""Consumers on a real database: who hears what, once, whatever the order and however often events arrive."""

from uuid import uuid4

import pytest

from qosym_chassis.consumer import IncomingMessage, Outcome
from qosym_contracts.attendance import AttendanceDisputedV1
from qosym_contracts.payments import BudgetThresholdReachedV1
from qosym_contracts.registry import GuardianshipEndedV1
from tests.support.events import child_registered, message

from .support import (
    awarded,
    enrolment_requested,
    guardian_of,
    kinds_for,
    messages,
    programme_published,
    round_closed,
    submitted,
    timesheet,
    value,
    waitlisted,
)
from .support import now as utc_now

pytestmark = pytest.mark.component


async def test_a_registered_child_puts_one_message_in_the_guardians_inbox(service_db, consumer) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    guardian, child = uuid4(), uuid4()

    assert await c.deliver(message(child_registered(guardian, child))) is Outcome.APPLIED

    assert await messages(url) == [
        {
            "audience": f"person:{guardian}",
            "person_id": guardian,
            "kind": "child_registered",
            "subject_id": child,
            "payload": {"child_id": str(child), "region_code": "astana", "district_code": "yesil"},
        }
    ]
    delivered = await value(
        url, "SELECT payload::text FROM outbox WHERE event_type = 'notifications.NotificationDelivered'"
    )
    assert '"channel":"in_app"' in delivered.replace(" ", "") and str(guardian) in delivered


async def test_a_redelivered_event_changes_nothing(service_db, consumer) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    event = child_registered(uuid4())
    await c.deliver(message(event))

    assert await c.deliver(message(event)) is Outcome.DUPLICATE
    assert len(await messages(url)) == 1
    assert await value(url, "SELECT count(*) FROM outbox") == 1


async def test_a_replay_under_a_new_event_id_never_sends_a_second_message(service_db, consumer) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    guardian, child = uuid4(), uuid4()
    await c.deliver(message(child_registered(guardian, child)))

    assert await c.deliver(message(child_registered(guardian, child))) is Outcome.APPLIED
    assert len(await messages(url)) == 1
    assert await value(url, "SELECT count(*) FROM outbox") == 1


async def test_each_child_is_its_own_message(service_db, consumer) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    guardian = uuid4()

    await c.deliver(message(child_registered(guardian)))
    await c.deliver(message(child_registered(guardian)))

    assert [m["person_id"] for m in await messages(url)] == [guardian, guardian]


async def test_an_event_that_is_not_a_valid_child_registration_is_dead_lettered(service_db, consumer) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    event = child_registered(uuid4())
    body = message(event).body.replace(b'"sex":"F"', b'"sex":"X"')

    outcome = await c.deliver(IncomingMessage(topic=event.topic, body=body))

    assert outcome is Outcome.DEAD_LETTERED
    assert await messages(url) == []


async def test_a_message_about_a_child_reaches_every_active_guardian_separately(service_db, consumer) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    mother, father, child = uuid4(), uuid4(), uuid4()
    await c.deliver(message(child_registered(mother, child)))
    await c.deliver(message(guardian_of(child, father)))

    application = submitted(child)
    await c.deliver(message(application))

    assert await kinds_for(url, f"person:{mother}") == ["child_registered", "application_received"]
    assert await kinds_for(url, f"person:{father}") == ["application_received"]

    await c.deliver(message(GuardianshipEndedV1(child_id=child, guardian_id=father)))
    await c.deliver(message(waitlisted(application, 12)))
    assert await kinds_for(url, f"person:{father}") == ["application_received"]
    assert await kinds_for(url, f"person:{mother}") == ["child_registered", "application_received", "waitlisted"]


async def test_an_older_guardianship_fact_arriving_late_does_not_undo_a_newer_one(service_db, consumer) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    child, guardian = uuid4(), uuid4()
    established = guardian_of(child, guardian)
    ended = GuardianshipEndedV1(child_id=child, guardian_id=guardian)  # later than established

    await c.deliver(message(ended))
    await c.deliver(message(established))  # the older fact, consumed late
    await c.deliver(message(submitted(child)))

    assert await kinds_for(url, f"person:{guardian}") == []


async def test_a_message_about_an_unknown_child_is_parked_until_its_guardian_is_known_never_dropped(
    service_db, consumer
) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url, consumer_max_attempts=2)
    child, guardian = uuid4(), uuid4()
    event = submitted(child)

    assert await c.deliver(message(event)) is Outcome.APPLIED  # handled: parked, the partition moves on
    assert await messages(url) == []
    assert await value(url, "SELECT count(*) FROM dead_letter") == 0
    assert await value(url, "SELECT awaits FROM parked_event WHERE event_id = $1", event.event_id) == (
        f"guardians-of:{child}"
    )

    assert await c.deliver(message(guardian_of(child, guardian))) is Outcome.APPLIED
    assert await kinds_for(url, f"person:{guardian}") == ["application_received"]
    assert await value(url, "SELECT count(*) FROM parked_event") == 0
    assert await c.deliver(message(event)) is Outcome.DUPLICATE  # a redelivery is neither parked nor told again
    assert await kinds_for(url, f"person:{guardian}") == ["application_received"]


async def test_a_round_from_application_to_result(service_db, consumer) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    guardian, first, second = uuid4(), uuid4(), uuid4()
    for child in (first, second):
        await c.deliver(message(child_registered(guardian, child)))
    round_id = uuid4()
    a, b = submitted(first, round_id), submitted(second, round_id)
    await c.deliver(message(a))
    closed = round_closed(round_id)
    await c.deliver(message(closed))
    await c.deliver(message(b))  # consumed after the closing (another topic): its applicant still hears of it
    await c.deliver(message(awarded(a)))
    await c.deliver(message(waitlisted(b, 5)))
    await c.deliver(message(waitlisted(b, 5)))  # a new event id for the same position: nothing new
    await c.deliver(message(waitlisted(b, 4)))
    await c.deliver(message(awarded(b)))  # a returned voucher reaches the waitlisted child

    found = [(m["kind"], m["subject_id"]) for m in await messages(url) if m["kind"] != "child_registered"]
    assert found == [
        ("application_received", a.application_id),
        ("round_closed", a.application_id),
        ("application_received", b.application_id),
        ("round_closed", b.application_id),
        ("voucher_awarded", found[4][1]),
        ("waitlisted", b.application_id),
        ("waitlist_position_changed", b.application_id),
        ("voucher_reoffered", found[7][1]),
    ]
    position = await value(
        url, "SELECT payload->>'previous_position' FROM inbox_message WHERE kind = 'waitlist_position_changed'"
    )
    assert position == "5"
    assert await c.deliver(message(closed)) is Outcome.DUPLICATE


async def test_enrolment_requests_reach_the_providers_staff_with_the_programme(service_db, consumer) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    provider, programme = uuid4(), uuid4()
    await c.deliver(message(programme_published(programme, provider)))

    request = enrolment_requested(uuid4(), programme, provider)
    assert await c.deliver(message(request)) is Outcome.APPLIED

    [found] = await messages(url)
    assert (found["audience"], found["person_id"], found["kind"]) == (
        f"provider:{provider}",
        None,
        "enrolment_requested",
    )
    assert found["payload"]["programme_id"] == str(programme)
    # a group message has no single person: no in-app NotificationDelivered for it
    assert await value(url, "SELECT count(*) FROM outbox") == 0


async def test_a_dispute_reaches_the_guardians_the_provider_and_the_regions_operators(service_db, consumer) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    guardian, child = uuid4(), uuid4()
    await c.deliver(message(child_registered(guardian, child)))
    sheet = timesheet(child, utc_now())
    dispute = AttendanceDisputedV1(
        **sheet.model_dump(
            include={
                "timesheet_id",
                "enrolment_id",
                "child_id",
                "programme_id",
                "provider_id",
                "region_code",
                "period",
                "planned_sessions",
            }
        ),
        dispute_id=uuid4(),
        disputed_sessions=2,
    )

    await c.deliver(message(dispute))

    audiences = {m["audience"] for m in await messages(url) if m["kind"] == "dispute_opened"}
    assert audiences == {f"person:{guardian}", f"provider:{sheet.provider_id}", "operators:astana"}


async def test_budget_news_reaches_the_regions_administrators(service_db, consumer) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    event = BudgetThresholdReachedV1(
        round_id=uuid4(),
        region_code="almaty",
        threshold_percent=90,
        budget_tiyn=10_000,
        committed_tiyn=9_000,
        spent_tiyn=1_000,
        forecast_tiyn=12_000,
    )

    await c.deliver(message(event))
    await c.deliver(message(event.model_copy(update={"event_id": uuid4()})))  # the same threshold again

    assert await kinds_for(url, "administrators:almaty") == ["budget_threshold_reached"]
