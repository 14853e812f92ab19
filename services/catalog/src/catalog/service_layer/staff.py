"""Staff and facilities of a provider, their expiring attestations, and the checks a programme needs.

A programme can run only while every assigned coach holds a valid criminal-record certificate and
qualification, and its facility valid sanitary and fire attestations; a coach is never scheduled in two
programmes at overlapping times.
"""

from __future__ import annotations

from datetime import date, time, timedelta
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
from catalog.domain.identifiers import parse_iin
from catalog.domain.programmes import (
    FACILITY_ATTESTATIONS,
    STAFF_ATTESTATIONS,
    RuleBroken,
    Slot,
    check_attestation_kind,
    missing_attestations,
    schedules_clash,
)
from catalog.service_layer.access import Caller
from catalog.service_layer.providers import Sessions
from qosym_chassis import outbox
from qosym_chassis.errors import Conflict, NotFound
from qosym_chassis.protection import IinProtector
from qosym_contracts.catalog import AttestationExpiringV1


def _slots(schedule: list[dict[str, Any]]) -> list[Slot]:
    return [
        Slot(s["weekday"], time.fromisoformat(str(s["start"])), time.fromisoformat(str(s["end"]))) for s in schedule
    ]


async def _managed(session: AsyncSession, caller: Caller, provider_id: UUID) -> None:
    """The provider exists and the caller manages it (its staff, an operator of its region and district), else 404."""
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
    if row is None or not caller.manages_provider(row):
        raise NotFound("no such provider")


def staff_out(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "full_name": row["full_name"],
        "role": row["role"],
        "iin_masked": "********" + row["iin_last4"],
    }


async def add_staff(
    sessions: Sessions,
    protector: IinProtector,
    caller: Caller,
    provider_id: UUID,
    data: dict[str, Any],
    today: date,
) -> dict[str, Any]:
    new_id = uuid4()
    async with sessions() as session, session.begin():
        await _managed(session, caller, provider_id)
        iin = parse_iin(data["iin"], today=today)
        index = protector.blind_index(iin)
        taken = await session.execute(
            select(staff.c.id).where(staff.c.provider_id == provider_id, staff.c.iin_index == index)
        )
        if taken.first() is not None:
            raise Conflict("this person is already on the provider's staff")
        row = (
            (
                await session.execute(
                    insert(staff)
                    .values(
                        id=new_id,
                        provider_id=provider_id,
                        full_name=data["full_name"],
                        role=data["role"],
                        iin_index=index,
                        iin_ciphertext=protector.encrypt(iin, row_id=str(new_id)),
                        iin_last4=iin[-4:],
                    )
                    .returning(*staff.c)
                )
            )
            .mappings()
            .one()
        )
        return staff_out(row)


async def add_facility(sessions: Sessions, caller: Caller, provider_id: UUID, data: dict[str, Any]) -> dict[str, Any]:
    async with sessions() as session, session.begin():
        await _managed(session, caller, provider_id)
        row = (
            (
                await session.execute(
                    insert(facility).values(id=uuid4(), provider_id=provider_id, **data).returning(*facility.c)
                )
            )
            .mappings()
            .one()
        )
        return dict(row)


async def _subject_of(session: AsyncSession, provider_id: UUID, subject_type: str, subject_id: UUID) -> bool:
    table = staff if subject_type == "staff" else facility
    found = await session.execute(
        select(table.c.id).where(table.c.id == subject_id, table.c.provider_id == provider_id)
    )
    return found.first() is not None


async def add_attestation(
    sessions: Sessions, caller: Caller, provider_id: UUID, data: dict[str, Any]
) -> dict[str, Any]:
    async with sessions() as session, session.begin():
        await _managed(session, caller, provider_id)
        check_attestation_kind(data["subject_type"], data["kind"])
        if not await _subject_of(session, provider_id, data["subject_type"], data["subject_id"]):
            raise RuleBroken("subject_id", f"no such {data['subject_type']} at this provider", "unknown")
        row = (
            (
                await session.execute(
                    insert(attestation).values(id=uuid4(), provider_id=provider_id, **data).returning(*attestation.c)
                )
            )
            .mappings()
            .one()
        )
        return dict(row)


async def expiring(
    sessions: Sessions, caller: Caller, provider_id: UUID, today: date, within_days: int
) -> list[dict[str, Any]]:
    """The latest attestation of each subject and kind that expires within ``within_days`` (or already has)."""
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
    async with sessions() as session:
        await _managed(session, caller, provider_id)
        rows = await session.execute(
            select(latest, names.c.name)
            .join(names, names.c.id == latest.c.subject_id)
            .where(latest.c.valid_until <= today + timedelta(days=within_days))
            .order_by(latest.c.valid_until, names.c.name)
        )
        return [{**dict(r), "expired": r["valid_until"] < today} for r in rows.mappings()]


async def _valid_until(session: AsyncSession, subject_id: UUID) -> dict[str, date]:
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
    return found.scalar_one_or_none()


async def check_can_run(
    session: AsyncSession,
    provider_id: UUID,
    coach_ids: list[UUID],
    facility_id: UUID | None,
    schedule: list[dict[str, Any]],
    today: date,
    programme_id: UUID | None = None,
    capacity: int | None = None,
) -> None:
    """Valid attestations for every coach and the facility; no coach double-booked; the group fits the facility.

    Locks the coaches.
    """
    for coach_id in coach_ids:
        found = await session.execute(
            select(staff.c.id).where(staff.c.id == coach_id, staff.c.provider_id == provider_id).with_for_update()
        )
        if found.first() is None:
            raise RuleBroken("coach_ids", "no such staff member at this provider", "unknown")
        missing = missing_attestations("staff", await _valid_until(session, coach_id), today)
        if missing:
            raise RuleBroken("coach_ids", f"a coach lacks a valid attestation: {', '.join(missing)}", "attestation")
        others = await session.execute(
            select(programme.c.schedule)
            .join(programme_staff, programme_staff.c.programme_id == programme.c.id)
            .where(
                programme_staff.c.staff_id == coach_id,
                programme.c.status.in_(("published", "suspended")),  # a suspended one comes back on renewal
                programme.c.id != programme_id if programme_id else programme.c.id.is_not(None),
            )
        )
        if any(schedules_clash(_slots(schedule), _slots(other)) for (other,) in others.all()):
            raise RuleBroken("coach_ids", "a coach is already scheduled at an overlapping time", "coach_overlap")
    if facility_id is not None:
        if not await _subject_of(session, provider_id, "facility", facility_id):
            raise RuleBroken("facility_id", "no such facility at this provider", "unknown")
        missing = missing_attestations("facility", await _valid_until(session, facility_id), today)
        if missing:
            raise RuleBroken(
                "facility_id", f"the facility lacks a valid attestation: {', '.join(missing)}", "attestation"
            )
        holds = await facility_capacity(session, facility_id)
        if capacity is not None and holds is not None and capacity > holds:
            raise RuleBroken("capacity", f"the group exceeds the facility's capacity of {holds}", "above_facility")


async def assign_coaches(session: AsyncSession, programme_id: UUID, coach_ids: list[UUID]) -> None:
    await session.execute(delete(programme_staff).where(programme_staff.c.programme_id == programme_id))
    if coach_ids:
        await session.execute(
            insert(programme_staff), [{"programme_id": programme_id, "staff_id": c} for c in coach_ids]
        )


async def lapsed_for(session: AsyncSession, programme_id: UUID, facility_id: UUID | None, today: date) -> list[str]:
    """What keeps a published programme from running today (checked before a seat is reserved)."""
    problems: list[str] = []
    coaches = await session.execute(
        select(programme_staff.c.staff_id).where(programme_staff.c.programme_id == programme_id)
    )
    for (coach_id,) in coaches.all():
        problems += missing_attestations("staff", await _valid_until(session, coach_id), today)
    if facility_id is not None:
        problems += missing_attestations("facility", await _valid_until(session, facility_id), today)
    return sorted(set(problems))


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

    The same rule as :func:`lapsed_for` (``missing_attestations``), as one condition for sweeps and the search.
    """
    coach_lapsed = exists().where(
        programme_staff.c.programme_id == programme.c.id,
        _lacks_any(programme_staff.c.staff_id, STAFF_ATTESTATIONS, today),
    )
    facility_lapsed = and_(
        programme.c.facility_id.is_not(None), _lacks_any(programme.c.facility_id, FACILITY_ATTESTATIONS, today)
    )
    return or_(coach_lapsed, facility_lapsed)


async def notify_expiring(sessions: Sessions, today: date, warning_days: int) -> int:
    """Publish AttestationExpiring once per attestation and state: ``expiring`` (within ``warning_days``), ``expired``.

    Only the latest attestation of each subject and kind counts (a renewed one silences the old). The business key
    ``attestation_notice (attestation_id, state)`` makes a second sweep, or a concurrent one, publish nothing again.
    Rejected providers are not reminded. Returns how many notices were published.
    """
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
    published = 0
    async with sessions() as session, session.begin():
        for row in (await session.execute(due)).mappings().all():
            claimed = await session.execute(
                pg_insert(attestation_notice)
                .values(attestation_id=row["id"], state=row["state"])
                .on_conflict_do_nothing()
                .returning(attestation_notice.c.attestation_id)
            )
            if claimed.first() is None:
                continue  # a concurrent sweep noticed it first
            await outbox.add_event(
                session,
                AttestationExpiringV1(
                    attestation_id=row["id"],
                    provider_id=row["provider_id"],
                    region_code=row["region_code"],
                    subject_type=row["subject_type"],
                    subject_id=row["subject_id"],
                    kind=row["kind"],
                    valid_until=row["valid_until"],
                    expired=row["state"] == "expired",
                ),
            )
            published += 1
    return published
