"""Staff and facilities of a provider, and the checks a programme needs before it runs.

A programme can run only while every assigned coach holds a valid criminal-record certificate and
qualification, and its facility valid sanitary and fire attestations; a coach is never scheduled in two
programmes at overlapping times.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, time
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from catalog.adapters import staff_repository
from catalog.domain.identifiers import parse_iin
from catalog.domain.programmes import RuleBroken, Slot, missing_attestations, schedules_clash
from catalog.service_layer.access import Caller
from catalog.service_layer.dependencies import Dependencies
from catalog.service_layer.models import FacilityOut, StaffOut
from qosym_chassis.errors import Conflict, NotFound
from qosym_chassis.inputs import OffsetPage


def slots(schedule: Sequence[Mapping[str, Any]]) -> list[Slot]:
    return [
        Slot(s["weekday"], time.fromisoformat(str(s["start"])), time.fromisoformat(str(s["end"]))) for s in schedule
    ]


async def managed(session: AsyncSession, caller: Caller, provider_id: UUID) -> None:
    """The provider exists and the caller manages it (its staff, an operator of its region and district), else 404."""
    row = await staff_repository.provider_place(session, provider_id)
    if row is None or not caller.manages_provider(row):
        raise NotFound("no such provider")


async def add_staff(deps: Dependencies, caller: Caller, provider_id: UUID, data: dict[str, Any]) -> StaffOut:
    protector = deps.iin_protector()
    new_id = uuid4()
    async with deps.sessions() as session, session.begin():
        await managed(session, caller, provider_id)
        iin = parse_iin(data["iin"], today=deps.clock.today())
        index = protector.blind_index(iin)
        if await staff_repository.staff_with_index(session, provider_id, index):
            raise Conflict("this person is already on the provider's staff")
        row = await staff_repository.add_staff(
            session,
            {
                "id": new_id,
                "provider_id": provider_id,
                "full_name": data["full_name"],
                "role": data["role"],
                "iin_index": index,
                "iin_ciphertext": protector.encrypt(iin, row_id=str(new_id)),
                "iin_last4": iin[-4:],
            },
        )
    return StaffOut(
        id=row["id"], full_name=row["full_name"], role=row["role"], iin_masked="********" + row["iin_last4"]
    )


async def add_facility(deps: Dependencies, caller: Caller, provider_id: UUID, data: dict[str, Any]) -> FacilityOut:
    async with deps.sessions() as session, session.begin():
        await managed(session, caller, provider_id)
        row = await staff_repository.add_facility(session, provider_id, data)
    return FacilityOut(**row)


async def staff_list(
    deps: Dependencies, caller: Caller, provider_id: UUID, limit: int, offset: int
) -> OffsetPage[StaffOut]:
    """The provider's staff by name, IINs masked (what a frontend offers as a programme's coaches)."""
    async with deps.sessions() as session:
        await managed(session, caller, provider_id)
        rows = await staff_repository.staff_of(session, provider_id)
    items = [
        StaffOut(id=r["id"], full_name=r["full_name"], role=r["role"], iin_masked="********" + r["iin_last4"])
        for r in rows
    ]
    return OffsetPage[StaffOut](items=items[offset : offset + limit], total=len(items), limit=limit, offset=offset)


async def facility_list(
    deps: Dependencies, caller: Caller, provider_id: UUID, limit: int, offset: int
) -> OffsetPage[FacilityOut]:
    async with deps.sessions() as session:
        await managed(session, caller, provider_id)
        rows = await staff_repository.facilities_of(session, provider_id)
    items = [FacilityOut(**r) for r in rows]
    return OffsetPage[FacilityOut](items=items[offset : offset + limit], total=len(items), limit=limit, offset=offset)


async def check_can_run(
    session: AsyncSession,
    provider_id: UUID,
    coach_ids: list[UUID],
    facility_id: UUID | None,
    schedule: Sequence[Mapping[str, Any]],
    today: date,
    programme_id: UUID | None = None,
    capacity: int | None = None,
) -> None:
    """Valid attestations for every coach and the facility; no coach double-booked; the group fits the facility.

    Locks the coaches.
    """
    for coach_id in coach_ids:
        if not await staff_repository.lock_staff_member(session, provider_id, coach_id):
            raise RuleBroken("coach_ids", "no such staff member at this provider", "unknown")
        missing = missing_attestations("staff", await staff_repository.valid_until(session, coach_id), today)
        if missing:
            raise RuleBroken("coach_ids", f"a coach lacks a valid attestation: {', '.join(missing)}", "attestation")
        others = await staff_repository.other_schedules(session, coach_id, programme_id)
        if any(schedules_clash(slots(schedule), slots(other)) for other in others):
            raise RuleBroken("coach_ids", "a coach is already scheduled at an overlapping time", "coach_overlap")
    if facility_id is not None:
        if not await staff_repository.subject_of(session, provider_id, "facility", facility_id):
            raise RuleBroken("facility_id", "no such facility at this provider", "unknown")
        missing = missing_attestations("facility", await staff_repository.valid_until(session, facility_id), today)
        if missing:
            raise RuleBroken(
                "facility_id", f"the facility lacks a valid attestation: {', '.join(missing)}", "attestation"
            )
        holds = await staff_repository.facility_capacity(session, facility_id)
        if capacity is not None and holds is not None and capacity > holds:
            raise RuleBroken("capacity", f"the group exceeds the facility's capacity of {holds}", "above_facility")


async def lapsed_for(session: AsyncSession, programme_id: UUID, facility_id: UUID | None, today: date) -> list[str]:
    """What keeps a published programme from running today (checked before a seat is reserved)."""
    problems: list[str] = []
    for coach_id in await staff_repository.coaches_of(session, programme_id):
        problems += missing_attestations("staff", await staff_repository.valid_until(session, coach_id), today)
    if facility_id is not None:
        problems += missing_attestations("facility", await staff_repository.valid_until(session, facility_id), today)
    return sorted(set(problems))
