"""A round's burst, reduced: thousands of results about children whose guardians arrive only afterwards.

Events of different topics have no order between them (a replay, a rebuilt consumer reading every topic from the
beginning, a registry backlog at round opening): every result is parked until its child's guardians are known and
applied once when they are, with no retry spent and no dead letter (docs/architecture.md, "Delivery", Parking).
"""

from uuid import uuid4

import pytest

from notifications.domain import messages as m
from qosym_chassis.consumer import Outcome
from tests.support.events import message

from .support import awarded, guardian_of, rows, submitted, value, waitlisted

pytestmark = pytest.mark.component

CHILDREN = 1000  # 2,000 events: the full size is `qosym bench round`
AWARDED = 100  # the first ones; the rest wait on the list


async def test_a_round_burst_before_its_guardianships_tells_every_guardian_once_with_no_dead_letter(
    service_db, consumer
) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url, consumer_max_attempts=1)
    round_id = uuid4()
    children = [uuid4() for _ in range(CHILDREN)]
    guardians = {child: uuid4() for child in children}
    applications = [submitted(child, round_id) for child in children]
    results = [
        awarded(application) if i < AWARDED else waitlisted(application, i - AWARDED + 1)
        for i, application in enumerate(applications)
    ]

    for event in results:  # allocation's topic first: no child's guardian is known yet
        assert await c.deliver(message(event)) is Outcome.APPLIED
    assert await value(url, "SELECT count(*) FROM parked_event") == CHILDREN
    assert await value(url, "SELECT count(*) FROM inbox_message") == 0

    for child in children:  # then the registry's
        assert await c.deliver(message(guardian_of(child, guardians[child]))) is Outcome.APPLIED

    for event in results[::25]:  # some redeliveries: already applied, nothing more
        assert await c.deliver(message(event)) is Outcome.DUPLICATE

    assert await value(url, "SELECT count(*) FROM parked_event") == 0
    assert await value(url, "SELECT count(*) FROM dead_letter") == 0
    assert await value(url, "SELECT count(*) FROM inbox") == 2 * CHILDREN
    told = {
        (r["audience"], r["kind"], r["n"])
        for r in await rows(url, "SELECT audience, kind, count(*) AS n FROM inbox_message GROUP BY audience, kind")
    }
    expected = {
        (f"person:{guardians[child]}", m.award_kind(False) if i < AWARDED else m.waitlist_kind(None), 1)
        for i, child in enumerate(children)
    }
    assert told == expected
