"""A region's attendance rules (administrators) and announced inspections (operators, administrators)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from attendance.adapters import inspection_repository, region_repository
from attendance.adapters.pages import page_of
from attendance.domain.period import period_containing
from attendance.domain.rules import AttendanceRules
from attendance.service_layer.access import Caller
from attendance.service_layer.dependencies import Dependencies
from attendance.service_layer.views import CurrentPeriodOut, InspectionOut, RulesOut
from qosym_chassis.errors import FieldError, NotFound
from qosym_chassis.inputs import OffsetPage


async def current_period(deps: Dependencies, code: str) -> CurrentPeriodOut:
    """The calendar month now running in the region's time zone."""
    async with deps.sessions() as session:
        clock = await region_repository.get_region(session, code)
    if clock is None:
        raise NotFound("no such region")
    period = period_containing(deps.clock.now(), clock.timezone)
    return CurrentPeriodOut(
        region_code=clock.code,
        timezone=clock.timezone,
        period=period.name,
        starts_at=period.starts_at,
        ends_at=period.ends_at,
    )


async def get_rules(deps: Dependencies, code: str) -> RulesOut:
    async with deps.sessions() as session:
        if await region_repository.get_region(session, code) is None:
            raise NotFound("no such region")
        revision, rules, who = await region_repository.current_rules(session, code)
    return RulesOut.model_validate(
        {
            "region_code": code,
            "revision": revision,
            "source": "region" if revision else "default",
            "set_by": who["by"] if who else None,
            "set_at": who["at"] if who else None,
            "rules": rules,
        }
    )


async def set_rules(deps: Dependencies, caller: Caller, code: str, rules: AttendanceRules) -> RulesOut:
    """A new revision; months already submitted keep the revision they were submitted under."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        if await region_repository.get_region(session, code) is None:
            raise NotFound("no such region")
        await region_repository.add_rules(session, code, rules, caller.actor, now)
    return await get_rules(deps, code)


async def announce_inspection(
    deps: Dependencies,
    caller: Caller,
    code: str,
    district_code: str | None,
    provider_id: UUID | None,
    announced_at: datetime | None,
    note: str,
) -> InspectionOut:
    now = deps.clock.now()
    if announced_at is not None and announced_at > now:
        raise FieldError("announced_at", "cannot be in the future")
    async with deps.sessions() as session, session.begin():
        if await region_repository.get_region(session, code) is None or not caller.may_decide_for(code, district_code):
            raise NotFound("no such region")
        if district_code is not None and district_code not in await region_repository.region_districts(session, code):
            raise FieldError("district_code", "no such district in this region", code="unknown_district")
        values = {
            "id": uuid4(),
            "region_code": code,
            "district_code": district_code,
            "provider_id": provider_id,
            "announced_at": announced_at or now,
            "announced_by": caller.actor,
            "note": note,
        }
        await inspection_repository.add(session, values)
        return InspectionOut.model_validate(values)


async def inspections(deps: Dependencies, caller: Caller, code: str) -> OffsetPage[InspectionOut]:
    """The region's inspections; a district's operator sees those of the whole region and of their district."""
    if not caller.oversees(code, region_wide_read=True):
        raise NotFound("no such region")
    async with deps.sessions() as session:
        query = inspection_repository.of_region(code, caller.district)
        return await page_of(session, query, InspectionOut)
