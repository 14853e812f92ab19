"""Complaints: a guardian of a child who is or was enrolled in a programme files one; the region's operators
list and resolve them; each parent sees the ones they filed. Counted per programme in its quality signals."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from catalog.adapters import complaint_repository, enrolment_repository
from catalog.domain.programmes import RuleBroken
from catalog.service_layer.access import Caller
from catalog.service_layer.dependencies import Dependencies
from catalog.service_layer.enrolments import is_guardian
from catalog.service_layer.models import ComplaintOut, ComplaintPage
from qosym_chassis.errors import Conflict, NotFound

CATEGORIES = ("safety", "teaching_quality", "attendance_records", "billing", "facility", "conduct", "other")


async def file(
    deps: Dependencies, caller: Caller, child_id: UUID, programme_id: UUID, category: str, text: str
) -> ComplaintOut:
    """A guardian complains about a programme their child attends or attended (operators of the region resolve it)."""
    async with deps.sessions() as session, session.begin():
        if not await is_guardian(session, child_id, caller.subject):
            raise NotFound("no such child")
        target = await complaint_repository.programme_place(session, programme_id)
        if target is None:
            raise NotFound("no such programme")
        if not await enrolment_repository.ever_confirmed(session, child_id, programme_id):
            raise RuleBroken("programme_id", "the child is not and was not enrolled in this programme", "not_enrolled")
        row = await complaint_repository.add(
            session,
            {
                "programme_id": programme_id,
                "child_id": child_id,
                "filed_by": caller.subject,
                "category": category,
                "text": text,
                "created_at": deps.clock.now(),
                **target,
            },
        )
    await deps.cache.invalidate()
    return ComplaintOut(**row)


def _visible_to(caller: Caller, row: Mapping[str, Any]) -> bool:
    if caller.role == "parent":
        return bool(row["filed_by"] == caller.subject)
    return caller.serves(row["region_code"], row["district_code"])


async def listing(
    deps: Dependencies, caller: Caller, filters: dict[str, Any], limit: int, offset: int
) -> ComplaintPage:
    """The caller's complaints (a parent: their own; an operator: their region's), newest first."""
    filed_by = caller.subject if caller.role == "parent" else None
    async with deps.sessions() as session:
        rows, total = await complaint_repository.listing(session, filed_by, caller.reach, filters, limit, offset)
    return ComplaintPage(items=[ComplaintOut(**r) for r in rows], total=total, limit=limit, offset=offset)


async def _load(session: AsyncSession, caller: Caller, complaint_id: UUID, *, lock: bool) -> dict[str, Any]:
    row = await complaint_repository.load(session, complaint_id, lock=lock)
    if row is None or not _visible_to(caller, row):
        raise NotFound("no such complaint")
    return row


async def get(deps: Dependencies, caller: Caller, complaint_id: UUID) -> ComplaintOut:
    async with deps.sessions() as session:
        return ComplaintOut(**await _load(session, caller, complaint_id, lock=False))


async def resolve(
    deps: Dependencies, caller: Caller, complaint_id: UUID, outcome: str, resolution: str
) -> ComplaintOut:
    """An operator of the complaint's region (or an administrator) records the outcome, once; the parent sees it."""
    async with deps.sessions() as session, session.begin():
        current = await _load(session, caller, complaint_id, lock=True)
        if current["status"] != "open":
            raise Conflict("the complaint is already resolved")
        row = await complaint_repository.resolve(
            session, complaint_id, outcome, resolution, caller.actor, deps.clock.now()
        )
    await deps.cache.invalidate()
    return ComplaintOut(**row)
