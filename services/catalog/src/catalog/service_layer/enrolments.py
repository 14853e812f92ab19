"""The enrolment saga on catalog's side: reserve a seat, wait for allocation's answer, end and release.

Seats are counted in ``programme.reserved``: a single conditional UPDATE (``reserved < capacity``) takes
one, guarded by a CHECK constraint, so concurrent requests can never over-book; every exit from an
active status (rejected, ended) gives the seat back in the same transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.adapters.orm import attendance_month, child, enrolment, guardianship, programme, provider, region
from catalog.domain.attendance import may_expire, zone
from catalog.domain.programmes import RuleBroken, can_end, in_age_band, within_decline_window
from catalog.service_layer import staff
from catalog.service_layer.access import Caller
from catalog.service_layer.providers import Sessions, load
from qosym_chassis import outbox
from qosym_chassis.errors import Conflict, NotFound
from qosym_contracts.allocation import VoucherAssignedV1, VoucherAssignmentRejectedV1
from qosym_contracts.catalog import (
    EnrolmentConfirmedV1,
    EnrolmentEndedV1,
    EnrolmentEndReason,
    EnrolmentRejectedV1,
    EnrolmentRequestedV1,
)
from qosym_contracts.registry import (
    ChildDetailsChangedV1,
    ChildRegisteredV1,
    GuardianshipEndedV1,
    GuardianshipEstablishedV1,
)

RESERVE_SEAT = text(
    "UPDATE programme SET reserved = reserved + 1, updated_at = now() "
    "WHERE id = :id AND status = 'published' AND reserved < capacity RETURNING reserved"
)
RELEASE_SEAT = text("UPDATE programme SET reserved = reserved - 1, updated_at = now() WHERE id = :id AND reserved > 0")


async def is_guardian(session: AsyncSession, child_id: UUID, person: str) -> bool:
    try:
        guardian_id = UUID(person)
    except ValueError:
        return False
    found = await session.execute(
        select(guardianship.c.active).where(
            guardianship.c.child_id == child_id, guardianship.c.guardian_id == guardian_id, guardianship.c.active
        )
    )
    return found.first() is not None


async def _child(session: AsyncSession, child_id: UUID) -> dict[str, Any] | None:
    row = (await session.execute(select(child).where(child.c.child_id == child_id))).mappings().first()
    return dict(row) if row else None


async def _visible(session: AsyncSession, caller: Caller, enrolment_id: UUID, *, lock: bool) -> dict[str, Any]:
    """The enrolment if the caller may reach it (see :meth:`Caller.sees_enrolment`), else 404 as if missing."""
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
    found = (await session.execute(query)).mappings().first()
    if found is None:
        raise NotFound("no such enrolment")
    row = dict(found)
    guardian = caller.role == "parent" and await is_guardian(session, row["child_id"], caller.subject)
    kid = await _child(session, row["child_id"]) if caller.role == "operator" else None
    if not caller.sees_enrolment(row, kid, guardian=guardian):
        raise NotFound("no such enrolment")
    del row["programme_region_code"], row["programme_district_code"]
    return row


async def request(
    sessions: Sessions, caller: Caller, child_id: UUID, programme_id: UUID, *, now: datetime
) -> dict[str, Any]:
    """Reserve a seat and ask allocation for the child's voucher (the parent, or an operator for them)."""
    async with sessions() as session, session.begin():
        return await _request_in(session, caller, child_id, programme_id, now)


async def _request_in(
    session: AsyncSession,
    caller: Caller,
    child_id: UUID,
    programme_id: UUID,
    now: datetime,
    replaces: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Every check catalog can make, then the seat and the request; ``replaces``: the confirmed enrolment a change
    of club moves from (it stays confirmed until allocation has assigned the voucher to the new one)."""
    if caller.role == "parent" and not await is_guardian(session, child_id, caller.subject):
        raise NotFound("no such child")
    kid = await _child(session, child_id)
    if kid is None or (caller.role != "parent" and not caller.serves_child(kid)):
        raise NotFound("no such child")
    target = (
        (
            await session.execute(
                select(programme, provider.c.status.label("provider_status"))
                .join(provider, provider.c.id == programme.c.provider_id)
                .where(programme.c.id == programme_id)
            )
        )
        .mappings()
        .first()
    )
    if target is None:
        raise NotFound("no such programme")
    if caller.role != "parent" and not caller.in_region(target["region_code"]):
        raise RuleBroken("programme_id", "the programme is outside this operator's region", "outside_scope")
    if target["status"] not in ("published", "suspended") or target["provider_status"] != "verified":
        raise Conflict("this programme does not take enrolments now")
    lapsed = await staff.lapsed_for(session, programme_id, target["facility_id"], now.date())
    if lapsed:
        raise Conflict(f"this programme is suspended: attestations lapsed ({', '.join(lapsed)})")
    if target["status"] == "suspended":  # renewed since the last sweep: the next one (or any attestation) restores it
        raise Conflict("this programme is suspended until its attestations are checked again")
    if not in_age_band(kid["birth_date"], now.date(), target["age_min"], target["age_max"]):
        raise RuleBroken("child_id", f"the programme is for ages {target['age_min']}-{target['age_max']}", "age_band")
    if replaces is not None and target["region_code"] != replaces["region_code"]:
        # the voucher belongs to the region of the enrolment it pays for: allocation would refuse (wrong_region)
        raise RuleBroken(
            "programme_id", "the programme is in another region than the child's enrolment", "wrong_region"
        )
    new_id = uuid4()
    inserted = await session.execute(
        pg_insert(enrolment)
        .values(
            id=new_id,
            programme_id=programme_id,
            provider_id=target["provider_id"],
            child_id=child_id,
            requested_by=caller.actor,
            status="requested",
            requested_at=now,
            replaces_enrolment_id=replaces["id"] if replaces else None,
        )
        .on_conflict_do_nothing()
        .returning(enrolment.c.id)
    )
    if inserted.first() is None:
        raise Conflict("the child already has an active enrolment in this programme")
    if (await session.execute(RESERVE_SEAT, {"id": programme_id})).first() is None:
        raise Conflict("no free seats in this programme")
    await outbox.add_event(
        session,
        EnrolmentRequestedV1(
            enrolment_id=new_id,
            child_id=child_id,
            programme_id=programme_id,
            provider_id=target["provider_id"],
            direction=target["direction"],
            region_code=target["region_code"],
            district_code=target["district_code"],
            age_min=target["age_min"],
            age_max=target["age_max"],
            replaces_enrolment_id=replaces["id"] if replaces else None,
        ),
    )
    row = (await session.execute(select(enrolment).where(enrolment.c.id == new_id))).mappings().one()
    return dict(row)


async def get(sessions: Sessions, caller: Caller, enrolment_id: UUID) -> dict[str, Any]:
    async with sessions() as session:
        return await _visible(session, caller, enrolment_id, lock=False)


async def of_child(sessions: Sessions, caller: Caller, child_id: UUID) -> list[dict[str, Any]]:
    async with sessions() as session:
        if caller.role == "parent":
            allowed = await is_guardian(session, child_id, caller.subject)
        else:
            allowed = caller.role == "administrator" or caller.serves_child(await _child(session, child_id))
        if not allowed:
            raise NotFound("no such child")
        rows = await session.execute(
            select(enrolment).where(enrolment.c.child_id == child_id).order_by(enrolment.c.requested_at)
        )
        return [dict(r) for r in rows.mappings()]


async def of_provider(sessions: Sessions, caller: Caller, provider_id: UUID) -> list[dict[str, Any]]:
    async with sessions() as session:
        owner = await load(session, provider_id)
        if owner is None or not caller.manages_provider(owner):
            raise NotFound("no such provider")
        rows = await session.execute(
            select(enrolment).where(enrolment.c.provider_id == provider_id).order_by(enrolment.c.requested_at)
        )
        return [dict(r) for r in rows.mappings()]


async def end_in(
    session: AsyncSession,
    enrolment_id: UUID,
    code: EnrolmentEndReason,
    ended_by: str,
    now: datetime,
    reason: str | None = None,
) -> bool:
    """End an active enrolment inside the caller's transaction: free the seat, tell allocation.

    ``code`` travels on the bus; ``reason`` (a person's words, shown to the family and the provider) stays here.
    """
    row = (
        (
            await session.execute(
                update(enrolment)
                .where(enrolment.c.id == enrolment_id, enrolment.c.status.in_(("requested", "confirmed")))
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
    if row is None:
        return False
    await session.execute(RELEASE_SEAT, {"id": row["programme_id"]})
    await outbox.add_event(session, EnrolmentEndedV1(enrolment_id=enrolment_id, child_id=row["child_id"], reason=code))
    return True


END_CODES: dict[str, EnrolmentEndReason] = {"parent": "left", "provider_staff": "ended_by_provider"}


async def _pending_change(session: AsyncSession, enrolment_id: UUID) -> dict[str, Any] | None:
    """The requested enrolment of a change of club away from ``enrolment_id``, while allocation decides."""
    found = await session.execute(
        select(enrolment).where(enrolment.c.replaces_enrolment_id == enrolment_id, enrolment.c.status == "requested")
    )
    row = found.mappings().first()
    return dict(row) if row else None


async def end(sessions: Sessions, caller: Caller, enrolment_id: UUID, reason: str, *, now: datetime) -> dict[str, Any]:
    async with sessions() as session, session.begin():
        current = await _visible(session, caller, enrolment_id, lock=True)
        if not can_end(current["status"]):
            raise Conflict(f"the enrolment is already {current['status']}")
        if current["replaces_enrolment_id"] is not None and current["status"] == "requested":
            raise Conflict("this change of club is being decided by allocation; end it once it is confirmed")
        code = END_CODES.get(caller.role, "ended_by_operator")
        await end_in(session, enrolment_id, code, caller.actor, now, reason)
        return await _visible(session, caller, enrolment_id, lock=False)


async def decline(
    sessions: Sessions, caller: Caller, enrolment_id: UUID, reason: str, window_days: int, *, now: datetime
) -> dict[str, Any]:
    """The provider declines a child within ``window_days`` of the request."""
    async with sessions() as session, session.begin():
        current = await _visible(session, caller, enrolment_id, lock=True)
        if caller.role != "provider_staff":
            raise NotFound("no such enrolment")
        if not can_end(current["status"]):
            raise Conflict(f"the enrolment is already {current['status']}")
        age_days = (now - current["requested_at"]).total_seconds() / 86400
        if not within_decline_window(age_days, window_days):
            raise Conflict(f"the {window_days}-day window to decline has passed; end the enrolment instead")
        if current["replaces_enrolment_id"] is not None and current["status"] == "requested":
            raise Conflict("this change of club is being decided by allocation; decline it once it is confirmed")
        await end_in(
            session,
            enrolment_id,
            "declined_by_provider",
            caller.actor,
            now,
            f"declined_by_provider: {reason}",
        )
        return await _visible(session, caller, enrolment_id, lock=False)


async def change_club(
    sessions: Sessions, caller: Caller, enrolment_id: UUID, programme_id: UUID, reason: str, *, now: datetime
) -> dict[str, Any]:
    """Request the new enrolment; the confirmed one stays until allocation has moved the voucher (the saga).

    Everything catalog can check is checked first (the target's region, age band, status, a free seat); nothing is
    ended here. On VoucherAssigned for the new enrolment the old one ends (``changed_club``); on
    VoucherAssignmentRejected only the new one is rejected and the child keeps the old seat and voucher.
    """
    async with sessions() as session, session.begin():
        current = await _visible(session, caller, enrolment_id, lock=True)
        if current["status"] != "confirmed":
            raise Conflict("only a confirmed enrolment can be moved to another club")
        if current["programme_id"] == programme_id:
            raise RuleBroken("programme_id", "the child is already in this programme")
        if await _pending_change(session, enrolment_id) is not None:
            raise Conflict("a change of club of this enrolment is already waiting for allocation's answer")
        region_code = (
            await session.execute(select(programme.c.region_code).where(programme.c.id == current["programme_id"]))
        ).scalar_one()
        requested = await _request_in(
            session, caller, current["child_id"], programme_id, now, {"id": enrolment_id, "region_code": region_code}
        )
        # the family's words stay with the old enrolment (shown once it ends); only the code travels
        await session.execute(update(enrolment).where(enrolment.c.id == enrolment_id).values(reason=reason))
        return requested


async def expire_unattended(sessions: Sessions, now: datetime, days: int, grace_days: int) -> int:
    """End confirmed enrolments never attended within ``days`` of confirmation (``reservation_expired``).

    Decided per enrolment by :func:`catalog.domain.attendance.may_expire`: only after the month in which the window
    ends has been timesheeted for this enrolment (and ``grace_days`` into the next month), so a timesheet that has
    not arrived yet never expires anyone. Each expiry frees the seat and, through EnrolmentEnded, the voucher.
    """
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
            enrolment.c.confirmed_at < now - timedelta(days=days),
            latest_period.is_not(None),
        )
        .order_by(enrolment.c.confirmed_at, enrolment.c.id)
        .with_for_update(of=enrolment, skip_locked=True)
    )
    async with sessions() as session, session.begin():
        rows = (await session.execute(candidates)).mappings().all()
        due = [
            row["id"]
            for row in rows
            if may_expire(row["confirmed_at"], zone(row["timezone"]), now, days, grace_days, row["latest_period"])
        ]
        for enrolment_id in due:
            await end_in(session, enrolment_id, "reservation_expired", "system:expiry_sweep", now)
        return len(due)


# --- consumed events ------------------------------------------------------------------------------


async def on_voucher_assigned(session: AsyncSession, event: VoucherAssignedV1, now: datetime) -> None:
    row = (
        (
            await session.execute(
                select(enrolment, programme.c.direction, programme.c.region_code, programme.c.district_code)
                .join(programme, programme.c.id == enrolment.c.programme_id)
                .add_columns(programme.c.price_per_month_tiyn, programme.c.sessions_per_month)
                .where(enrolment.c.id == event.enrolment_id)
                .with_for_update(of=enrolment)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return  # not one of ours (or long gone): nothing to confirm
    if row["status"] != "requested":
        if row["status"] in ("ended", "rejected") and row["voucher_id"] is None:
            # ended before the answer came: hand the voucher straight back
            await session.execute(
                update(enrolment).where(enrolment.c.id == event.enrolment_id).values(voucher_id=event.voucher_id)
            )
            if row["replaces_enrolment_id"] is not None and await _move_voucher_back(session, row):
                return
            await outbox.add_event(
                session,
                EnrolmentEndedV1(
                    enrolment_id=event.enrolment_id, child_id=event.child_id, reason=row["reason_code"] or "left"
                ),
            )
        return
    if row["replaces_enrolment_id"] is not None:
        # the pivot of a change of club: the voucher has moved, so the old enrolment ends now (before the new one's
        # confirmation, on the same child-keyed partition: payments and attendance see the end first)
        await end_in(session, row["replaces_enrolment_id"], "changed_club", "system:change_club", now)
    await session.execute(
        update(enrolment)
        .where(enrolment.c.id == event.enrolment_id)
        .values(status="confirmed", voucher_id=event.voucher_id, confirmed_at=now)
    )
    await outbox.add_event(
        session,
        EnrolmentConfirmedV1(
            enrolment_id=event.enrolment_id,
            child_id=row["child_id"],
            programme_id=row["programme_id"],
            provider_id=row["provider_id"],
            voucher_id=event.voucher_id,
            direction=row["direction"],
            region_code=row["region_code"],
            district_code=row["district_code"],
            price_per_month_tiyn=row["price_per_month_tiyn"],
            sessions_per_month=row["sessions_per_month"],
        ),
    )


async def _move_voucher_back(session: AsyncSession, cancelled: Any) -> bool:
    """A change of club's new enrolment ended (its programme closed) before the voucher arrived, while the old one is
    still confirmed: ask allocation to move the voucher back to the old enrolment instead of releasing it."""
    old = (
        (
            await session.execute(
                select(enrolment, programme.c.direction, programme.c.region_code, programme.c.district_code)
                .add_columns(programme.c.age_min, programme.c.age_max)
                .join(programme, programme.c.id == enrolment.c.programme_id)
                .where(enrolment.c.id == cancelled["replaces_enrolment_id"], enrolment.c.status == "confirmed")
            )
        )
        .mappings()
        .first()
    )
    if old is None:
        return False
    await outbox.add_event(
        session,
        EnrolmentRequestedV1(
            enrolment_id=old["id"],
            child_id=old["child_id"],
            programme_id=old["programme_id"],
            provider_id=old["provider_id"],
            direction=old["direction"],
            region_code=old["region_code"],
            district_code=old["district_code"],
            age_min=old["age_min"],
            age_max=old["age_max"],
            replaces_enrolment_id=cancelled["id"],
        ),
    )
    return True


async def on_assignment_rejected(session: AsyncSession, event: VoucherAssignmentRejectedV1, now: datetime) -> None:
    row = (
        (
            await session.execute(
                update(enrolment)
                .where(enrolment.c.id == event.enrolment_id, enrolment.c.status == "requested")
                .values(status="rejected", reason=event.reason, ended_at=now, ended_by="allocation")
                .returning(enrolment.c.programme_id, enrolment.c.replaces_enrolment_id)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        await _give_up_moving_back(session, event)
        return
    await session.execute(RELEASE_SEAT, {"id": row["programme_id"]})
    if row["replaces_enrolment_id"] is not None:
        # a change of club refused: the old enrolment was never ended and keeps its seat and voucher (compensation
        # is only forgetting the family's reason for the change)
        await session.execute(
            update(enrolment)
            .where(enrolment.c.id == row["replaces_enrolment_id"], enrolment.c.status == "confirmed")
            .values(reason=None)
        )
    await outbox.add_event(
        session,
        EnrolmentRejectedV1(
            enrolment_id=event.enrolment_id,
            child_id=event.child_id,
            programme_id=row["programme_id"],
            reason=event.reason,
        ),
    )


async def _give_up_moving_back(session: AsyncSession, event: VoucherAssignmentRejectedV1) -> None:
    """Allocation refused to move a voucher back to a confirmed enrolment (see ``_move_voucher_back``): release it
    from the cancelled enrolment that holds it after all, as any enrolment ended before its answer does."""
    holder = (
        (
            await session.execute(
                select(enrolment).where(
                    enrolment.c.replaces_enrolment_id == event.enrolment_id,
                    enrolment.c.status == "ended",
                    enrolment.c.voucher_id.is_not(None),
                )
            )
        )
        .mappings()
        .first()
    )
    if holder is not None:
        await outbox.add_event(
            session,
            EnrolmentEndedV1(
                enrolment_id=holder["id"], child_id=holder["child_id"], reason=holder["reason_code"] or "left"
            ),
        )


async def on_child_registered(session: AsyncSession, event: ChildRegisteredV1 | ChildDetailsChangedV1) -> None:
    values = {
        "birth_date": event.birth_date,
        "region_code": event.region_code,
        "district_code": event.district_code,
    }
    statement = pg_insert(child).values(child_id=event.child_id, **values)
    await session.execute(statement.on_conflict_do_update(index_elements=[child.c.child_id], set_=values))


async def on_guardianship(session: AsyncSession, event: GuardianshipEstablishedV1 | GuardianshipEndedV1) -> None:
    active = isinstance(event, GuardianshipEstablishedV1)
    statement = pg_insert(guardianship).values(child_id=event.child_id, guardian_id=event.guardian_id, active=active)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[guardianship.c.child_id, guardianship.c.guardian_id], set_={"active": active}
        )
    )
