"""A region's attendance rules (administrators) and announced inspections (operators, administrators)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import insert, select

from attendance.adapters import repository
from attendance.adapters.orm import inspection
from attendance.domain.rules import AttendanceRules
from attendance.service_layer.access import Caller, NotFoundError, RuleBroken, Sessions


async def get_rules(sessions: Sessions, code: str) -> dict[str, Any]:
    async with sessions() as session:
        if await repository.get_region(session, code) is None:
            raise NotFoundError("no such region")
        revision, rules, who = await repository.current_rules(session, code)
    return {
        "region_code": code,
        "revision": revision,
        "source": "region" if revision else "default",
        "set_by": who["by"] if who else None,
        "set_at": who["at"] if who else None,
        "rules": rules,
    }


async def set_rules(
    sessions: Sessions, caller: Caller, code: str, rules: AttendanceRules, now: datetime
) -> dict[str, Any]:
    """A new revision; months already submitted keep the revision they were submitted under."""
    async with sessions() as session, session.begin():
        if await repository.get_region(session, code) is None:
            raise NotFoundError("no such region")
        await repository.add_rules(session, code, rules, caller.actor, now)
    return await get_rules(sessions, code)


async def announce_inspection(
    sessions: Sessions,
    caller: Caller,
    code: str,
    district_code: str | None,
    provider_id: UUID | None,
    announced_at: datetime,
    note: str,
) -> dict[str, Any]:
    async with sessions() as session, session.begin():
        if await repository.get_region(session, code) is None or not caller.may_decide_for(code, district_code):
            raise NotFoundError("no such region")
        if district_code is not None and district_code not in await repository.region_districts(session, code):
            raise RuleBroken("district_code", "no such district in this region", "unknown_district")
        values = {
            "id": uuid4(),
            "region_code": code,
            "district_code": district_code,
            "provider_id": provider_id,
            "announced_at": announced_at,
            "announced_by": caller.actor,
            "note": note,
        }
        await session.execute(insert(inspection).values(**values))
        return values


async def inspections(sessions: Sessions, caller: Caller, code: str) -> list[dict[str, Any]]:
    if not caller.oversees(code):
        raise NotFoundError("no such region")
    async with sessions() as session:
        rows = await session.execute(
            select(inspection).where(inspection.c.region_code == code).order_by(inspection.c.announced_at)
        )
        return [dict(r) for r in rows.mappings()]
