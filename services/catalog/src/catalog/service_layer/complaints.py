"""Complaints: a guardian of a child who is or was enrolled in a programme files one; the region's operators
list and resolve them; each parent sees the ones they filed. Counted per programme in its quality signals."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.adapters.orm import complaint, enrolment, programme
from catalog.domain.programmes import RuleBroken
from catalog.service_layer.access import Caller
from catalog.service_layer.enrolments import is_guardian
from catalog.service_layer.providers import Sessions
from qosym_chassis.errors import Conflict, NotFound

CATEGORIES = ("safety", "teaching_quality", "attendance_records", "billing", "facility", "conduct", "other")


async def file(
    sessions: Sessions, caller: Caller, child_id: UUID, programme_id: UUID, category: str, text: str, *, now: datetime
) -> dict[str, Any]:
    async with sessions() as session, session.begin():
        if not await is_guardian(session, child_id, caller.subject):
            raise NotFound("no such child")
        target = (
            (
                await session.execute(
                    select(programme.c.provider_id, programme.c.region_code, programme.c.district_code).where(
                        programme.c.id == programme_id
                    )
                )
            )
            .mappings()
            .first()
        )
        if target is None:
            raise NotFound("no such programme")
        enrolled = await session.execute(
            select(enrolment.c.id).where(
                enrolment.c.child_id == child_id,
                enrolment.c.programme_id == programme_id,
                enrolment.c.confirmed_at.is_not(None),
            )
        )
        if enrolled.first() is None:
            raise RuleBroken("programme_id", "the child is not and was not enrolled in this programme", "not_enrolled")
        row = (
            (
                await session.execute(
                    complaint.insert()
                    .values(
                        id=uuid4(),
                        programme_id=programme_id,
                        child_id=child_id,
                        filed_by=caller.subject,
                        category=category,
                        text=text,
                        status="open",
                        created_at=now,
                        **target,
                    )
                    .returning(*complaint.c)
                )
            )
            .mappings()
            .one()
        )
        return dict(row)


def _visible_to(caller: Caller, row: Any) -> bool:
    if caller.role == "parent":
        return bool(row["filed_by"] == caller.subject)
    return caller.serves(row["region_code"], row["district_code"])


def _listing(caller: Caller, filters: dict[str, Any]) -> Select[Any]:
    query = select(complaint)
    if caller.role == "parent":
        query = query.where(complaint.c.filed_by == caller.subject)
    else:
        query = query.where(caller.serves_clause(complaint.c.region_code, complaint.c.district_code))
    for key in ("region_code", "district_code", "status", "programme_id"):
        if filters.get(key) is not None:
            query = query.where(complaint.c[key] == filters[key])
    return query


async def listing(
    sessions: Sessions, caller: Caller, filters: dict[str, Any], limit: int, offset: int
) -> dict[str, Any]:
    """The caller's complaints (a parent: their own; an operator: their region's), newest first."""
    query = _listing(caller, filters)
    async with sessions() as session:
        total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        rows = await session.execute(
            query.order_by(complaint.c.created_at.desc(), complaint.c.id).limit(limit).offset(offset)
        )
        return {"items": [dict(r) for r in rows.mappings()], "total": total, "limit": limit, "offset": offset}


async def _load(session: AsyncSession, caller: Caller, complaint_id: UUID, *, lock: bool) -> dict[str, Any]:
    query = select(complaint).where(complaint.c.id == complaint_id)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).mappings().first()
    if row is None or not _visible_to(caller, row):
        raise NotFound("no such complaint")
    return dict(row)


async def get(sessions: Sessions, caller: Caller, complaint_id: UUID) -> dict[str, Any]:
    async with sessions() as session:
        return await _load(session, caller, complaint_id, lock=False)


async def resolve(
    sessions: Sessions, caller: Caller, complaint_id: UUID, outcome: str, resolution: str, *, now: datetime
) -> dict[str, Any]:
    """An operator of the complaint's region (or an administrator) records the outcome, once."""
    async with sessions() as session, session.begin():
        current = await _load(session, caller, complaint_id, lock=True)
        if current["status"] != "open":
            raise Conflict("the complaint is already resolved")
        row = (
            (
                await session.execute(
                    update(complaint)
                    .where(complaint.c.id == complaint_id)
                    .values(
                        status="resolved",
                        outcome=outcome,
                        resolution=resolution,
                        resolved_by=caller.actor,
                        resolved_at=now,
                    )
                    .returning(*complaint.c)
                )
            )
            .mappings()
            .one()
        )
        return dict(row)
