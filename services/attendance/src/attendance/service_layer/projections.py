"""What attendance does with the events it consumes: projections of regions, programmes, enrolments, guardians.

Every handler is order-tolerant: an enrolment may arrive before its programme (different topics), an older
programme state never overwrites a newer one, and an EnrolmentEnded seen first is applied when its
EnrolmentConfirmed arrives.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from attendance.adapters import guardian_repository, programme_repository, region_repository
from attendance.domain.period import UnknownTimeZone, zone
from attendance.domain.region import RegionClock
from attendance.service_layer.dependencies import Dependencies
from qosym_chassis.consumer import Reject
from qosym_contracts.allocation import RegionConfiguredV1
from qosym_contracts.catalog import (
    EnrolmentConfirmedV1,
    EnrolmentEndedV1,
    ProgrammeChangedV1,
    ProgrammeClosedV1,
    ProgrammePublishedV1,
)
from qosym_contracts.registry import GuardianshipEndedV1, GuardianshipEstablishedV1


async def on_region_configured(deps: Dependencies, session: AsyncSession, event: RegionConfiguredV1) -> None:
    try:
        zone(event.timezone)
    except UnknownTimeZone as exc:  # a zone our tzdata lacks would break every period: dead-letter it
        raise Reject(str(exc)) from exc
    clock = RegionClock(code=event.region_code, revision=event.revision, timezone=event.timezone)
    await region_repository.upsert_region(session, clock, [d.code for d in event.districts])


async def on_programme(
    deps: Dependencies, session: AsyncSession, event: ProgrammePublishedV1 | ProgrammeChangedV1
) -> None:
    await programme_repository.upsert_programme(
        session,
        {
            "id": event.programme_id,
            "provider_id": event.provider_id,
            "region_code": event.region_code,
            "district_code": event.district_code,
            "sessions_per_month": event.sessions_per_month,
            "capacity": event.capacity,
            "schedule": [s.model_dump(mode="json") for s in event.schedule],
            "coach_ids": list(event.coach_ids),
            "facility_id": event.facility_id,
            "facility_capacity": event.facility_capacity,
            "status": getattr(event, "status", "published"),
            "source_at": event.occurred_at,
        },
    )


async def on_programme_closed(deps: Dependencies, session: AsyncSession, event: ProgrammeClosedV1) -> None:
    # a programme never published to us has nothing to close: its enrolments end through EnrolmentEnded
    await programme_repository.close_programme(session, event.programme_id, event.occurred_at)


async def on_enrolment_confirmed(deps: Dependencies, session: AsyncSession, event: EnrolmentConfirmedV1) -> None:
    await programme_repository.add_enrolment(
        session,
        {
            "id": event.enrolment_id,
            "child_id": event.child_id,
            "programme_id": event.programme_id,
            "provider_id": event.provider_id,
            "voucher_id": event.voucher_id,
            "region_code": event.region_code,
            "district_code": event.district_code,
            "sessions_per_month": event.sessions_per_month,
            "starts_at": event.occurred_at,
        },
    )


async def on_enrolment_ended(deps: Dependencies, session: AsyncSession, event: EnrolmentEndedV1) -> None:
    await programme_repository.end_enrolment(session, event.enrolment_id, event.occurred_at)


async def on_guardianship(
    deps: Dependencies, session: AsyncSession, event: GuardianshipEstablishedV1 | GuardianshipEndedV1
) -> None:
    active = isinstance(event, GuardianshipEstablishedV1)
    await guardian_repository.set_guardianship(session, event.child_id, event.guardian_id, active)
