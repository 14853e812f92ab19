"""Helpers of conversations' component tests: a family (a child, a guardian), its enrolment with a provider, a
submitted and disputed timesheet month and an application, all fed as events to the consumer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from qosym_chassis.consumer import Outcome
from qosym_contracts.allocation import ApplicationSubmittedV1
from qosym_contracts.attendance import AttendanceDisputedV1, AttendanceSubmittedV1
from qosym_contracts.catalog import EnrolmentConfirmedV1
from qosym_contracts.envelope import IntegrationEvent
from qosym_contracts.registry import GuardianshipEstablishedV1
from tests.support.events import child_registered, message

PDF = b"%PDF-1.7\n% a small test document\n"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@dataclass
class Family:
    guardian_id: UUID = field(default_factory=uuid4)
    second_guardian_id: UUID = field(default_factory=uuid4)
    child_id: UUID = field(default_factory=uuid4)
    provider_id: UUID = field(default_factory=uuid4)
    enrolment_id: UUID = field(default_factory=uuid4)
    timesheet_id: UUID = field(default_factory=uuid4)
    dispute_id: UUID = field(default_factory=uuid4)
    application_id: UUID = field(default_factory=uuid4)

    def events(self) -> list[IntegrationEvent]:
        common = {
            "timesheet_id": self.timesheet_id,
            "enrolment_id": self.enrolment_id,
            "child_id": self.child_id,
            "programme_id": uuid4(),
            "provider_id": self.provider_id,
            "region_code": "astana",
            "period": "2026-10",
            "planned_sessions": 8,
        }
        return [
            child_registered(self.guardian_id, self.child_id),
            GuardianshipEstablishedV1(child_id=self.child_id, guardian_id=self.second_guardian_id),
            ApplicationSubmittedV1(
                application_id=self.application_id,
                round_id=uuid4(),
                child_id=self.child_id,
                region_code="astana",
                district_code="yesil",
                direction="sports",
            ),
            EnrolmentConfirmedV1(
                enrolment_id=self.enrolment_id,
                child_id=self.child_id,
                programme_id=uuid4(),
                provider_id=self.provider_id,
                voucher_id=uuid4(),
                direction="sports",
                region_code="astana",
                district_code="yesil",
                price_per_month_tiyn=1_500_000,
                sessions_per_month=8,
            ),
            AttendanceSubmittedV1(
                **common,
                district_code="yesil",
                attended_sessions=8,
                sessions=[],
                confirm_by=utc(2026, 11, 5),
            ),
            AttendanceDisputedV1(**common, dispute_id=self.dispute_id, disputed_sessions=2),
        ]

    def object_id(self, object_type: str) -> UUID:
        return {
            "application": self.application_id,
            "enrolment": self.enrolment_id,
            "timesheet": self.timesheet_id,
            "dispute": self.dispute_id,
        }[object_type]


async def deliver(consumer: Any, *events: IntegrationEvent) -> None:
    for event in events:
        outcome = await consumer.deliver(message(event))
        assert outcome in (Outcome.APPLIED, Outcome.DUPLICATE), (event.event_type, outcome)


async def family(consumer: Any) -> Family:
    f = Family()
    await deliver(consumer, *f.events())
    return f


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
