"""Programmes: publish, change, close, and the full state other services read from their events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from catalog.adapters import programme_repository, provider_repository, staff_repository
from catalog.domain.programmes import check_age_band, check_capacity, check_schedule
from catalog.service_layer import enrolments, regions, staff
from catalog.service_layer.access import Caller
from catalog.service_layer.dependencies import Dependencies
from catalog.service_layer.models import ProgrammeClosed, ProgrammeOut
from qosym_chassis import outbox
from qosym_chassis.errors import Conflict, NotFound
from qosym_chassis.inputs import OffsetPage
from qosym_contracts.allocation import LocalisedName
from qosym_contracts.catalog import (
    ProgrammeChangedV1,
    ProgrammeClosedV1,
    ProgrammePublishedV1,
    ProgrammeSchedule,
)


def programme_out(row: Mapping[str, Any]) -> ProgrammeOut:
    return ProgrammeOut(**{**row, "free_seats": row.get("free_seats", row["capacity"] - row.get("reserved", 0))})


async def programme_event(
    session: AsyncSession, cls: type[ProgrammePublishedV1], row: dict[str, Any]
) -> ProgrammePublishedV1:
    """The programme's full state (with its coaches and the facility's capacity) as an event of ``cls``."""
    extra = {"status": row["status"]} if cls is ProgrammeChangedV1 and row.get("status") == "suspended" else {}
    coaches = await staff_repository.coaches_of(session, row["id"])
    return cls(
        **extra,
        programme_id=row["id"],
        provider_id=row["provider_id"],
        direction=row["direction"],
        region_code=row["region_code"],
        district_code=row["district_code"],
        age_min=row["age_min"],
        age_max=row["age_max"],
        language=row["language"],
        sessions_per_month=row["sessions_per_month"],
        price_per_month_tiyn=row["price_per_month_tiyn"],
        capacity=row["capacity"],
        schedule=[ProgrammeSchedule(**s) for s in row["schedule"]],
        title=LocalisedName(**row["title"]),
        coach_ids=sorted(coaches, key=str),
        facility_id=row["facility_id"],
        facility_capacity=await staff_repository.facility_capacity(session, row["facility_id"]),
    )


def _check(values: Mapping[str, Any]) -> None:
    check_schedule(staff.slots(values["schedule"]))
    check_age_band(values["age_min"], values["age_max"])


async def _owned(session: AsyncSession, caller: Caller, programme_id: UUID, *, lock: bool) -> dict[str, Any]:
    row = await programme_repository.load(session, programme_id, lock=lock)
    if row is None or not caller.manages_programme(row):
        raise NotFound("no such programme")
    return row


def _staffing(values: dict[str, Any]) -> tuple[list[UUID] | None, dict[str, Any]]:
    """Split the coach list off the programme's columns (UUIDs back from their JSON form)."""
    values = dict(values)
    coaches = values.pop("coach_ids", None)
    if values.get("facility_id") is not None:
        values["facility_id"] = UUID(str(values["facility_id"]))
    return ([UUID(str(c)) for c in coaches] if coaches is not None else None), values


async def publish(deps: Dependencies, caller: Caller, provider_id: UUID, values: dict[str, Any]) -> ProgrammeOut:
    """Publish a programme of a verified provider (its own staff, or an operator)."""
    _check(values)
    coaches, values = _staffing(values)
    async with deps.sessions() as session, session.begin():
        owner = await provider_repository.load(session, provider_id)
        if owner is None or not caller.manages_provider(owner):
            raise NotFound("no such provider")
        if owner["status"] != "verified":
            raise Conflict(f"the provider is {owner['status']}: only a verified provider publishes programmes")
        await regions.check_place(session, owner["region_code"], values["district_code"])
        await staff.check_can_run(
            session,
            provider_id,
            coaches or [],
            values.get("facility_id"),
            values["schedule"],
            deps.clock.today(),
            capacity=values["capacity"],
        )
        row = await programme_repository.add(session, provider_id, owner["region_code"], values)
        await staff_repository.assign_coaches(session, row["id"], coaches or [])
        await outbox.add_event(session, await programme_event(session, ProgrammePublishedV1, row))
    await deps.cache.invalidate()
    return programme_out(row)


async def of_provider(
    deps: Dependencies, caller: Caller, provider_id: UUID, limit: int, offset: int
) -> OffsetPage[ProgrammeOut]:
    """The provider's own programmes, published, suspended and closed alike (the public search shows only the
    published ones), newest first."""
    async with deps.sessions() as session:
        owner = await provider_repository.load(session, provider_id)
        if owner is None or not caller.manages_provider(owner):
            raise NotFound("no such provider")
        rows = await programme_repository.of_provider(session, provider_id)
    items = [programme_out(r) for r in rows]
    return OffsetPage[ProgrammeOut](items=items[offset : offset + limit], total=len(items), limit=limit, offset=offset)


async def change(deps: Dependencies, caller: Caller, programme_id: UUID, changes: dict[str, Any]) -> ProgrammeOut:
    coaches, changes = _staffing(changes)
    async with deps.sessions() as session, session.begin():
        current = await _owned(session, caller, programme_id, lock=True)
        if current["status"] == "closed":
            raise Conflict("a closed programme cannot be changed")
        merged = {**current, **changes}
        _check(merged)
        if "capacity" in changes:
            check_capacity(changes["capacity"], current["reserved"])
        if coaches is None:
            coaches = await staff_repository.coaches_of(session, programme_id)
        await staff.check_can_run(
            session,
            current["provider_id"],
            coaches,
            merged["facility_id"],
            merged["schedule"],
            deps.clock.today(),
            programme_id,
            capacity=merged["capacity"],
        )
        await staff_repository.assign_coaches(session, programme_id, coaches)
        # check_can_run passed: every coach and the facility are attested, so a suspended programme runs again
        row = await programme_repository.change(session, programme_id, {**changes, "status": "published"})
        await outbox.add_event(session, await programme_event(session, ProgrammeChangedV1, row))
    await deps.cache.invalidate()
    return programme_out(row)


async def close(deps: Dependencies, caller: Caller, programme_id: UUID) -> ProgrammeClosed:
    """Close the programme and end every active enrolment in it (their vouchers are released)."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        current = await _owned(session, caller, programme_id, lock=True)
        if current["status"] == "closed":
            ended = 0
        else:
            active = await enrolments.active_in(session, programme_id)
            for enrolment_id in active:
                await enrolments.end_in(session, enrolment_id, "programme_closed", caller.actor, now)
            await programme_repository.set_closed(session, programme_id)
            await outbox.add_event(
                session, ProgrammeClosedV1(programme_id=programme_id, provider_id=current["provider_id"])
            )
            ended = len(active)
    await deps.cache.invalidate()
    return ProgrammeClosed(enrolments_ended=ended)
