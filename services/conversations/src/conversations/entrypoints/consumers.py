"""What conversations consumes (one table: event type -> service-layer handler; docs/architecture.md, "Service
anatomy"). It publishes MessagePosted through its outbox (its relay process)."""

from __future__ import annotations

from typing import cast

from conversations.bootstrap import dependencies
from conversations.config import ConversationsSettings
from conversations.service_layer import projections as p
from conversations.service_layer.dependencies import Dependencies
from qosym_chassis.consumer import EventConsumer, Subscriptions
from qosym_chassis.context import ServiceContext
from qosym_contracts.allocation import ApplicationSubmittedV1
from qosym_contracts.attendance import (
    AttendanceConfirmedV1,
    AttendanceDisputedV1,
    AttendanceSubmittedV1,
    DisputeResolvedV1,
)
from qosym_contracts.catalog import EnrolmentConfirmedV1, EnrolmentRequestedV1
from qosym_contracts.registry import ChildRegisteredV1, GuardianshipEndedV1, GuardianshipEstablishedV1

SUBSCRIPTIONS: Subscriptions[Dependencies] = {
    ChildRegisteredV1: p.on_child_registered,
    GuardianshipEstablishedV1: p.on_guardianship,
    GuardianshipEndedV1: p.on_guardianship,
    ApplicationSubmittedV1: p.on_application,
    EnrolmentRequestedV1: p.on_enrolment,
    EnrolmentConfirmedV1: p.on_enrolment,
    AttendanceSubmittedV1: p.on_timesheet,
    AttendanceConfirmedV1: p.on_timesheet,
    AttendanceDisputedV1: p.on_timesheet,
    DisputeResolvedV1: p.on_timesheet,
}


def register(consumer: EventConsumer, context: ServiceContext | None) -> None:
    """``context`` is None only when documents are generated (scripts/asyncapi.py): the table is still listed."""
    deps: Dependencies | None = None
    if context is not None:
        settings = context.settings
        assert isinstance(settings, ConversationsSettings)
        deps = dependencies(settings, context)
    consumer.route(SUBSCRIPTIONS, cast(Dependencies, deps))  # None only for documents, never applied
