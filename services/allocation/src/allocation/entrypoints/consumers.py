"""What allocation consumes."""

from __future__ import annotations

from allocation.service_layer import handlers, rounds
from qosym_chassis.consumer import EventConsumer
from qosym_chassis.context import ServiceContext
from qosym_contracts.catalog import EnrolmentEndedV1, EnrolmentRequestedV1
from qosym_contracts.registry import (
    ChildCategoriesVerifiedV1,
    ChildDetailsChangedV1,
    ChildRegisteredV1,
    GuardianshipEndedV1,
    GuardianshipEstablishedV1,
)


def register(consumer: EventConsumer, _: ServiceContext) -> None:
    consumer.on(ChildRegisteredV1, handlers.record_child_registered)
    consumer.on(ChildDetailsChangedV1, handlers.record_child_details_changed)
    consumer.on(GuardianshipEstablishedV1, rounds.record_guardianship_established)
    consumer.on(GuardianshipEndedV1, rounds.record_guardianship_ended)
    consumer.on(ChildCategoriesVerifiedV1, rounds.record_categories)
    consumer.on(EnrolmentRequestedV1, rounds.on_enrolment_requested)
    consumer.on(EnrolmentEndedV1, rounds.on_enrolment_ended)
