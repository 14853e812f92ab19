"""All SQL of the enrolment aggregate (seats are the programme's: :mod:`catalog.adapters.programme_repository`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.adapters.orm import attendance_month, enrolment, programme, region

Row = dict[str, Any]
ACTIVE = ("requested", "confirmed")


async def with_place(session: AsyncSession, enrolment_id: UUID, *, lock: bool) -> Row | None:
    """The enrolment with its programme's region and district (``programme_region_code``, ``..._district_code``)."""
    query = (
        select(
            enrolment,
            programme.c.region_code.label("programme_region_code"),
            programme.c.district_code.label("programme_district_code"),
        )
        .join(programme, programme.c.id == enrolment.c.programme_id)
        .where(enrolment.c.id == enrolment_id)
    )
    if lock:
        query = query.with_for_update(of=enrolment)
    row = (await session.execute(query)).mappings().first()
    return dict(row) if row else None


async def add_requested(session: AsyncSession, values: Row) -> bool:
    """Insert a requested enrolment; False when the child already has an active one in the programme."""
    inserted = await session.execute(
        insert(enrolment).values(status="requested", **values).on_conflict_do_nothing().returning(enrolment.c.id)
    )
    return inserted.first() is not None


async def load(session: AsyncSession, enrolment_id: UUID) -> Row:
    return dict((await session.execute(select(enrolment).where(enrolment.c.id == enrolment_id))).mappings().one())


async def of_child(session: AsyncSession, child_id: UUID) -> list[Row]:
    rows = await session.execute(
        select(enrolment).where(enrolment.c.child_id == child_id).order_by(enrolment.c.requested_at)
    )
    return [dict(r) for r in rows.mappings()]


async def of_provider(session: AsyncSession, provider_id: UUID, limit: int, offset: int) -> tuple[list[Row], int]:
    query = select(enrolment).where(enrolment.c.provider_id == provider_id)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await session.execute(query.order_by(enrolment.c.requested_at, enrolment.c.id).limit(limit).offset(offset))
    return [dict(r) for r in rows.mappings()], total


async def active_in(session: AsyncSession, programme_id: UUID) -> list[UUID]:
    rows = await session.execute(
        select(enrolment.c.id).where(enrolment.c.programme_id == programme_id, enrolment.c.status.in_(ACTIVE))
    )
    return list(rows.scalars().all())


async def ever_confirmed(session: AsyncSession, child_id: UUID, programme_id: UUID) -> bool:
    found = await session.execute(
        select(enrolment.c.id).where(
            enrolment.c.child_id == child_id,
            enrolment.c.programme_id == programme_id,
            enrolment.c.confirmed_at.is_not(None),
        )
    )
    return found.first() is not None


async def end_active(
    session: AsyncSession, enrolment_id: UUID, code: str, ended_by: str, now: datetime, reason: str | None
) -> Row | None:
    """End the enrolment if active (the person's words, else any earlier reason, else the code); its programme and
    child, or None when it was not active."""
    row = (
        (
            await session.execute(
                update(enrolment)
                .where(enrolment.c.id == enrolment_id, enrolment.c.status.in_(ACTIVE))
                .values(
                    status="ended",
                    reason=reason if reason is not None else func.coalesce(enrolment.c.reason, code),
                    reason_code=code,
                    ended_by=ended_by,
                    ended_at=now,
                )
                .returning(enrolment.c.programme_id, enrolment.c.child_id)
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def pending_change(session: AsyncSession, enrolment_id: UUID) -> Row | None:
    """The requested enrolment of a change of club away from ``enrolment_id``, while allocation decides."""
    found = await session.execute(
        select(enrolment).where(enrolment.c.replaces_enrolment_id == enrolment_id, enrolment.c.status == "requested")
    )
    row = found.mappings().first()
    return dict(row) if row else None


async def set_reason(
    session: AsyncSession, enrolment_id: UUID, reason: str | None, *, if_confirmed: bool = False
) -> None:
    statement = update(enrolment).where(enrolment.c.id == enrolment_id)
    if if_confirmed:
        statement = statement.where(enrolment.c.status == "confirmed")
    await session.execute(statement.values(reason=reason))


async def expiry_candidates(session: AsyncSession, confirmed_before: datetime) -> list[Row]:
    """Confirmed enrolments never attended, confirmed before ``confirmed_before``, with at least one timesheet:
    their confirmation, the region's time zone and the latest timesheeted period (locked, skipping locked ones)."""
    latest_period = (
        select(func.max(attendance_month.c.period))
        .where(attendance_month.c.enrolment_id == enrolment.c.id)
        .scalar_subquery()
    )
    candidates = (
        select(enrolment.c.id, enrolment.c.confirmed_at, region.c.timezone, latest_period.label("latest_period"))
        .join(programme, programme.c.id == enrolment.c.programme_id)
        .outerjoin(region, region.c.code == programme.c.region_code)
        .where(
            enrolment.c.status == "confirmed",
            enrolment.c.first_attended_at.is_(None),
            enrolment.c.confirmed_at < confirmed_before,
            latest_period.is_not(None),
        )
        .order_by(enrolment.c.confirmed_at, enrolment.c.id)
        .with_for_update(of=enrolment, skip_locked=True)
    )
    return [dict(r) for r in (await session.execute(candidates)).mappings().all()]


async def with_programme_locked(session: AsyncSession, enrolment_id: UUID) -> Row | None:
    """The enrolment (locked) with what its confirmation tells others about the programme."""
    row = (
        (
            await session.execute(
                select(enrolment, programme.c.direction, programme.c.region_code, programme.c.district_code)
                .join(programme, programme.c.id == enrolment.c.programme_id)
                .add_columns(programme.c.price_per_month_tiyn, programme.c.sessions_per_month)
                .where(enrolment.c.id == enrolment_id)
                .with_for_update(of=enrolment)
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def set_voucher(session: AsyncSession, enrolment_id: UUID, voucher_id: UUID) -> None:
    await session.execute(update(enrolment).where(enrolment.c.id == enrolment_id).values(voucher_id=voucher_id))


async def confirm(session: AsyncSession, enrolment_id: UUID, voucher_id: UUID, now: datetime) -> None:
    await session.execute(
        update(enrolment)
        .where(enrolment.c.id == enrolment_id)
        .values(status="confirmed", voucher_id=voucher_id, confirmed_at=now)
    )


async def confirmed_with_programme(session: AsyncSession, enrolment_id: UUID) -> Row | None:
    """A confirmed enrolment with its programme's direction, place and age band."""
    row = (
        (
            await session.execute(
                select(enrolment, programme.c.direction, programme.c.region_code, programme.c.district_code)
                .add_columns(programme.c.age_min, programme.c.age_max)
                .join(programme, programme.c.id == enrolment.c.programme_id)
                .where(enrolment.c.id == enrolment_id, enrolment.c.status == "confirmed")
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def reject_requested(session: AsyncSession, enrolment_id: UUID, reason: str, now: datetime) -> Row | None:
    """Reject a requested enrolment (allocation's answer): its programme and the enrolment it replaces, or None."""
    row = (
        (
            await session.execute(
                update(enrolment)
                .where(enrolment.c.id == enrolment_id, enrolment.c.status == "requested")
                .values(status="rejected", reason=reason, ended_at=now, ended_by="allocation")
                .returning(enrolment.c.programme_id, enrolment.c.replaces_enrolment_id)
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def ended_holding_voucher(session: AsyncSession, replaced_by: UUID) -> Row | None:
    """The ended enrolment that ``replaced_by`` was to move back to, still holding its voucher."""
    row = (
        (
            await session.execute(
                select(enrolment).where(
                    enrolment.c.replaces_enrolment_id == replaced_by,
                    enrolment.c.status == "ended",
                    enrolment.c.voucher_id.is_not(None),
                )
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None
