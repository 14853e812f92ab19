"""What conversations does with the events it consumes: who a child's guardians are and what each object names
(its child, provider, region and district), so a thread's participants follow from its object.

Order-tolerant: an object seen on two topics keeps every value either event named; an older guardianship event
never overrides a newer one.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.adapters import subject_repository
from conversations.domain.participants import Subject
from conversations.service_layer.dependencies import Dependencies
from qosym_contracts.allocation import ApplicationSubmittedV1
from qosym_contracts.attendance import (
    AttendanceConfirmedV1,
    AttendanceDisputedV1,
    AttendanceSubmittedV1,
    DisputeResolvedV1,
)
from qosym_contracts.catalog import EnrolmentConfirmedV1, EnrolmentRequestedV1
from qosym_contracts.registry import ChildRegisteredV1, GuardianshipEndedV1, GuardianshipEstablishedV1


async def on_child_registered(deps: Dependencies, session: AsyncSession, event: ChildRegisteredV1) -> None:
    await subject_repository.set_guardianship(
        session, event.child_id, event.guardian_id, active=True, at=event.occurred_at
    )


async def on_guardianship(
    deps: Dependencies, session: AsyncSession, event: GuardianshipEstablishedV1 | GuardianshipEndedV1
) -> None:
    await subject_repository.set_guardianship(
        session,
        event.child_id,
        event.guardian_id,
        active=isinstance(event, GuardianshipEstablishedV1),
        at=event.occurred_at,
    )


async def on_application(deps: Dependencies, session: AsyncSession, event: ApplicationSubmittedV1) -> None:
    await subject_repository.upsert_subject(
        session,
        Subject("application", event.application_id, event.child_id, None, event.region_code, event.district_code),
    )


async def on_enrolment(
    deps: Dependencies, session: AsyncSession, event: EnrolmentRequestedV1 | EnrolmentConfirmedV1
) -> None:
    await subject_repository.upsert_subject(
        session,
        Subject(
            "enrolment", event.enrolment_id, event.child_id, event.provider_id, event.region_code, event.district_code
        ),
    )


async def on_timesheet(
    deps: Dependencies,
    session: AsyncSession,
    event: AttendanceSubmittedV1 | AttendanceConfirmedV1 | AttendanceDisputedV1 | DisputeResolvedV1,
) -> None:
    district = event.district_code if isinstance(event, AttendanceSubmittedV1) else None
    await subject_repository.upsert_subject(
        session,
        Subject("timesheet", event.timesheet_id, event.child_id, event.provider_id, event.region_code, district),
    )
    if isinstance(event, AttendanceDisputedV1 | DisputeResolvedV1):
        month = await subject_repository.get_subject(session, "timesheet", event.timesheet_id)
        district = month.district_code if month is not None else None
        await subject_repository.upsert_subject(
            session,
            Subject("dispute", event.dispute_id, event.child_id, event.provider_id, event.region_code, district),
        )
