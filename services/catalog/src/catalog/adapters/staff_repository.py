"""All SQL of a provider's staff, facilities and attestations (and who coaches which programme)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import ColumnElement, and_, case, delete, exists, func, insert, literal, or_, select, union_all
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.adapters.orm import (
    attestation,
    attestation_notice,
    facility,
    programme,
    programme_staff,
    provider,
    staff,
)
from catalog.domain.programmes import FACILITY_ATTESTATIONS, STAFF_ATTESTATIONS

Row = dict[str, Any]


async def provider_place(session: AsyncSession, provider_id: UUID) -> Row | None:
    """The provider's id, region and district (what decides who manages it)."""
    row = (
        (
            await session.execute(
                select(provider.c.id, provider.c.region_code, provider.c.district_code).where(
                    provider.c.id == provider_id
                )
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def staff_with_index(session: AsyncSession, provider_id: UUID, iin_index: bytes) -> bool:
    taken = await session.execute(
        select(staff.c.id).where(staff.c.provider_id == provider_id, staff.c.iin_index == iin_index)
    )
    return taken.first() is not None


async def add_staff(session: AsyncSession, values: Row) -> Row:
    row = (await session.execute(insert(staff).values(**values).returning(*staff.c))).mappings().one()
    return dict(row)


async def add_facility(session: AsyncSession, provider_id: UUID, values: Row) -> Row:
    row = (
        (
            await session.execute(
                insert(facility).values(id=uuid4(), provider_id=provider_id, **values).returning(*facility.c)
            )
        )
        .mappings()
        .one()
    )
    return dict(row)


async def staff_of(session: AsyncSession, provider_id: UUID) -> list[Row]:
    """The provider's staff, by name (the IIN stays encrypted: only its last four digits)."""
    rows = await session.execute(
        select(staff.c.id, staff.c.full_name, staff.c.role, staff.c.iin_last4)
        .where(staff.c.provider_id == provider_id)
        .order_by(staff.c.full_name, staff.c.id)
    )
    return [dict(r) for r in rows.mappings()]


async def facilities_of(session: AsyncSession, provider_id: UUID) -> list[Row]:
    rows = await session.execute(
        select(facility.c.id, facility.c.name, facility.c.address, facility.c.capacity)
        .where(facility.c.provider_id == provider_id)
        .order_by(facility.c.name, facility.c.id)
    )
    return [dict(r) for r in rows.mappings()]


async def subject_of(session: AsyncSession, provider_id: UUID, subject_type: str, subject_id: UUID) -> bool:
    table = staff if subject_type == "staff" else facility
    found = await session.execute(
        select(table.c.id).where(table.c.id == subject_id, table.c.provider_id == provider_id)
    )
    return found.first() is not None


async def lock_staff_member(session: AsyncSession, provider_id: UUID, staff_id: UUID) -> bool:
    found = await session.execute(
        select(staff.c.id).where(staff.c.id == staff_id, staff.c.provider_id == provider_id).with_for_update()
    )
    return found.first() is not None


async def add_attestation(session: AsyncSession, provider_id: UUID, values: Row) -> Row:
    row = (
        (
            await session.execute(
                insert(attestation).values(id=uuid4(), provider_id=provider_id, **values).returning(*attestation.c)
            )
        )
        .mappings()
        .one()
    )
    return dict(row)


async def expiring(session: AsyncSession, provider_id: UUID, until: date) -> list[Row]:
    """The latest attestation of each subject and kind of the provider valid until ``until`` at most, with the
    subject's name, soonest first."""
    latest = (
        select(
            attestation.c.subject_type,
            attestation.c.subject_id,
            attestation.c.kind,
            func.max(attestation.c.valid_until).label("valid_until"),
        )
        .where(attestation.c.provider_id == provider_id)
        .group_by(attestation.c.subject_type, attestation.c.subject_id, attestation.c.kind)
        .subquery()
    )
    names = union_all(
        select(staff.c.id.label("id"), staff.c.full_name.label("name")).where(staff.c.provider_id == provider_id),
        select(facility.c.id, facility.c.name).where(facility.c.provider_id == provider_id),
    ).subquery()
    rows = await session.execute(
        select(latest, names.c.name)
        .join(names, names.c.id == latest.c.subject_id)
        .where(latest.c.valid_until <= until)
        .order_by(latest.c.valid_until, names.c.name)
    )
    return [dict(r) for r in rows.mappings()]


async def valid_until(session: AsyncSession, subject_id: UUID) -> dict[str, date]:
    """Per attestation kind, the latest date the subject is attested until."""
    rows = await session.execute(
        select(attestation.c.kind, func.max(attestation.c.valid_until))
        .where(attestation.c.subject_id == subject_id)
        .group_by(attestation.c.kind)
    )
    return {kind: until for kind, until in rows.all()}


async def facility_capacity(session: AsyncSession, facility_id: UUID | None) -> int | None:
    if facility_id is None:
        return None
    found = await session.execute(select(facility.c.capacity).where(facility.c.id == facility_id))
    capacity: int | None = found.scalar_one_or_none()
    return capacity


async def other_schedules(session: AsyncSession, coach_id: UUID, programme_id: UUID | None) -> list[list[Row]]:
    """The schedules of the other running (or suspended) programmes the coach leads."""
    rows = await session.execute(
        select(programme.c.schedule)
        .join(programme_staff, programme_staff.c.programme_id == programme.c.id)
        .where(
            programme_staff.c.staff_id == coach_id,
            programme.c.status.in_(("published", "suspended")),  # a suspended one comes back on renewal
            programme.c.id != programme_id if programme_id else programme.c.id.is_not(None),
        )
    )
    return [list(schedule) for (schedule,) in rows.all()]


async def assign_coaches(session: AsyncSession, programme_id: UUID, coach_ids: list[UUID]) -> None:
    await session.execute(delete(programme_staff).where(programme_staff.c.programme_id == programme_id))
    if coach_ids:
        await session.execute(
            insert(programme_staff), [{"programme_id": programme_id, "staff_id": c} for c in coach_ids]
        )


async def coaches_of(session: AsyncSession, programme_id: UUID) -> list[UUID]:
    rows = await session.execute(
        select(programme_staff.c.staff_id).where(programme_staff.c.programme_id == programme_id)
    )
    return list(rows.scalars().all())


def _lacks_any(subject_id: Any, kinds: tuple[str, ...], today: date) -> ColumnElement[bool]:
    """SQL: the subject holds no attestation valid on ``today`` for at least one of ``kinds``."""
    return or_(
        *(
            ~exists().where(
                attestation.c.subject_id == subject_id,
                attestation.c.kind == kind,
                attestation.c.valid_until >= today,
            )
            for kind in kinds
        )
    )


def lapsed_clause(today: date) -> ColumnElement[bool]:
    """SQL over ``programme``: a coach or the facility lacks a required attestation valid on ``today``.

    The same rule as ``missing_attestations`` in :mod:`catalog.domain.programmes`, as one condition for sweeps and
    the search.
    """
    coach_lapsed = exists().where(
        programme_staff.c.programme_id == programme.c.id,
        _lacks_any(programme_staff.c.staff_id, STAFF_ATTESTATIONS, today),
    )
    facility_lapsed = and_(
        programme.c.facility_id.is_not(None), _lacks_any(programme.c.facility_id, FACILITY_ATTESTATIONS, today)
    )
    return or_(coach_lapsed, facility_lapsed)


async def notices_due(session: AsyncSession, today: date, warning_days: int) -> list[Row]:
    """The latest attestation of each subject and kind (of providers not rejected) expiring within ``warning_days``
    or expired, in the state (``expiring``, ``expired``) no notice was recorded for yet."""
    latest = (
        select(
            attestation.c.id,
            attestation.c.provider_id,
            attestation.c.subject_type,
            attestation.c.subject_id,
            attestation.c.kind,
            attestation.c.valid_until,
            provider.c.region_code,
        )
        .join(provider, provider.c.id == attestation.c.provider_id)
        .where(provider.c.status != "rejected")
        .ext(distinct_on(attestation.c.subject_id, attestation.c.kind))
        .order_by(attestation.c.subject_id, attestation.c.kind, attestation.c.valid_until.desc(), attestation.c.id)
        .subquery()
    )
    state = case((latest.c.valid_until < today, literal("expired")), else_=literal("expiring"))
    due = (
        select(latest, state.label("state"))
        .where(
            latest.c.valid_until <= today + timedelta(days=warning_days),
            ~exists().where(attestation_notice.c.attestation_id == latest.c.id, attestation_notice.c.state == state),
        )
        .order_by(latest.c.valid_until, latest.c.id)
    )
    return [dict(r) for r in (await session.execute(due)).mappings().all()]


async def claim_notice(session: AsyncSession, attestation_id: UUID, state: str) -> bool:
    """Record the notice (the business key ``(attestation_id, state)``); False when a concurrent sweep did first."""
    claimed = await session.execute(
        pg_insert(attestation_notice)
        .values(attestation_id=attestation_id, state=state)
        .on_conflict_do_nothing()
        .returning(attestation_notice.c.attestation_id)
    )
    return claimed.first() is not None
