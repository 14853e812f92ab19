"""The subscription table: every event whose notices need nothing but the event is consumed, and listed."""

from __future__ import annotations

from typing import cast

from notifications.domain import notices
from notifications.entrypoints.consumers import SUBSCRIPTIONS, register
from qosym_chassis.consumer import EventConsumer
from qosym_chassis.context import ServiceContext
from qosym_chassis.db import make_engine, make_session_factory


def test_every_event_with_direct_notices_is_subscribed() -> None:
    assert set(notices.DIRECT) <= set(SUBSCRIPTIONS)


def test_listing_the_subscriptions_needs_no_running_service() -> None:
    engine = make_engine("postgresql://docs@127.0.0.1/none", application_name="asyncapi")  # never connects
    consumer = EventConsumer(service="notifications", engine=engine, session_factory=make_session_factory(engine))
    register(consumer, cast(ServiceContext, None))

    assert set(consumer.event_classes) == set(SUBSCRIPTIONS)
    assert consumer.periodic == []
