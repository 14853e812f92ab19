"""Attendance persistence: regions and their rules, and the projections of catalog's and registry's events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from attendance.adapters.orm import early_enrolment_end, enrolment, guardianship, programme, region, region_rules
from attendance.domain.region import RegionClock
from attendance.domain.rules import DEFAULT_RULES, AttendanceRules


async def get_region(session: AsyncSession, code: str) -> RegionClock | None:
    row = (await session.execute(select(region).where(region.c.code == code))).mappings().first()
    return RegionClock(code=row["code"], revision=row["revision"], timezone=row["timezone"]) if row else None


async def upsert_region(session: AsyncSession, clock: RegionClock, districts: Sequence[str] = ()) -> None:
    """Insert or update; an older or equal revision changes nothing (except filling in the districts of a row
    projected before they were kept)."""
    statement = insert(region).values(
        code=clock.code, revision=clock.revision, timezone=clock.timezone, districts=list(districts)
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[region.c.code],
            set_={
                "revision": statement.excluded.revision,
                "timezone": statement.excluded.timezone,
                "districts": statement.excluded.districts,
                "updated_at": func.now(),
            },
            where=(region.c.revision < statement.excluded.revision)
            | ((region.c.revision == statement.excluded.revision) & region.c.districts.is_(None)),
        )
    )


async def region_districts(session: AsyncSession, code: str) -> list[str]:
    """The district codes of a region (empty when unknown)."""
    row = (await session.execute(select(region.c.districts).where(region.c.code == code))).first()
    return list(row[0] or []) if row else []


# --- rules -----------------------------------------------------------------------------------------


async def current_rules(session: AsyncSession, code: str) -> tuple[int, AttendanceRules, dict[str, Any] | None]:
    """(revision, rules, who set them); revision 0 is the documented defaults."""
    row = (
        (
            await session.execute(
                select(region_rules)
                .where(region_rules.c.region_code == code)
                .order_by(region_rules.c.revision.desc())
                .limit(1)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return 0, DEFAULT_RULES, None
    return row["revision"], AttendanceRules.model_validate(row["rules"]), {"by": row["set_by"], "at": row["set_at"]}


async def rules_at(session: AsyncSession, code: str, revision: int) -> AttendanceRules:
    if revision == 0:
        return DEFAULT_RULES
    stored = await session.scalar(
        select(region_rules.c.rules).where(region_rules.c.region_code == code, region_rules.c.revision == revision)
    )
    if stored is None:
        raise LookupError(f"rules revision {revision} of {code} is missing")
    return AttendanceRules.model_validate(stored)


async def add_rules(session: AsyncSession, code: str, rules: AttendanceRules, actor: str, now: datetime) -> int:
    await session.execute(select(region.c.code).where(region.c.code == code).with_for_update())
    latest = await session.scalar(
        select(func.coalesce(func.max(region_rules.c.revision), 0)).where(region_rules.c.region_code == code)
    )
    revision = int(latest or 0) + 1
    await session.execute(
        insert(region_rules).values(
            region_code=code, revision=revision, rules=rules.model_dump(mode="json"), set_by=actor, set_at=now
        )
    )
    return revision


# --- projections -------------------------------------------------------------------------------------


async def upsert_programme(session: AsyncSession, values: dict[str, Any]) -> None:
    """Event-carried state of a programme; an older event never overwrites a newer one."""
    statement = insert(programme).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[programme.c.id],
            set_={k: statement.excluded[k] for k in values if k != "id"},
            where=programme.c.source_at <= statement.excluded.source_at,
        )
    )


async def close_programme(session: AsyncSession, programme_id: UUID, at: datetime) -> bool:
    done = await session.execute(
        update(programme)
        .where(programme.c.id == programme_id, programme.c.source_at <= at)
        .values(status="closed", source_at=at)
        .returning(programme.c.id)
    )
    return done.first() is not None


async def get_programme(session: AsyncSession, programme_id: UUID) -> dict[str, Any] | None:
    row = (await session.execute(select(programme).where(programme.c.id == programme_id))).mappings().first()
    return dict(row) if row else None


async def add_enrolment(session: AsyncSession, values: dict[str, Any]) -> None:
    early_end = await session.scalar(
        select(early_enrolment_end.c.ended_at).where(early_enrolment_end.c.enrolment_id == values["id"])
    )
    statement = insert(enrolment).values(**values, ended_at=early_end)
    await session.execute(statement.on_conflict_do_nothing(index_elements=[enrolment.c.id]))


async def end_enrolment(session: AsyncSession, enrolment_id: UUID, at: datetime) -> None:
    done = await session.execute(
        update(enrolment)
        .where(enrolment.c.id == enrolment_id, enrolment.c.ended_at.is_(None))
        .values(ended_at=at)
        .returning(enrolment.c.id)
    )
    if done.first() is None:
        known = await session.scalar(select(enrolment.c.id).where(enrolment.c.id == enrolment_id))
        if known is None:  # ended before its confirmation reached us (or never confirmed): remember it
            await session.execute(
                insert(early_enrolment_end).values(enrolment_id=enrolment_id, ended_at=at).on_conflict_do_nothing()
            )


async def set_guardianship(session: AsyncSession, child_id: UUID, guardian_id: UUID, active: bool) -> None:
    statement = insert(guardianship).values(child_id=child_id, guardian_id=guardian_id, active=active)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[guardianship.c.child_id, guardianship.c.guardian_id], set_={"active": active}
        )
    )


async def is_guardian(session: AsyncSession, child_id: UUID, person: str) -> bool:
    try:
        guardian_id = UUID(person)
    except ValueError:
        return False
    found = await session.scalar(
        select(guardianship.c.active).where(
            guardianship.c.child_id == child_id, guardianship.c.guardian_id == guardian_id, guardianship.c.active
        )
    )
    return bool(found)


async def children_of(session: AsyncSession, person: str) -> list[UUID]:
    try:
        guardian_id = UUID(person)
    except ValueError:
        return []
    rows = await session.execute(
        select(guardianship.c.child_id).where(guardianship.c.guardian_id == guardian_id, guardianship.c.active)
    )
    return list(rows.scalars())
