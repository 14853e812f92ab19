"""The enrolment saga on catalog's side: reserve a seat, wait for allocation's answer, end and release.

Seats are counted in ``programme.reserved``: a single conditional UPDATE (``reserved < capacity``) takes
one, guarded by a CHECK constraint, so concurrent requests can never over-book; every exit from an
active status (rejected, ended) gives the seat back in the same transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from catalog.adapters import enrolment_repository, family_repository, programme_repository, provider_repository
from catalog.domain.attendance import may_expire, zone
from catalog.domain.programmes import RuleBroken, can_end, in_age_band, within_decline_window
from catalog.service_layer import staff
from catalog.service_layer.access import Caller
from catalog.service_layer.dependencies import Dependencies
from catalog.service_layer.models import EnrolmentOut, EnrolmentsExpired
from qosym_chassis import outbox
from qosym_chassis.errors import Conflict, NotFound
from qosym_chassis.inputs import OffsetPage
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

Row = dict[str, Any]


async def is_guardian(session: AsyncSession, child_id: UUID, person: str) -> bool:
    try:
        guardian_id = UUID(person)
    except ValueError:
        return False
    return await family_repository.is_guardian(session, child_id, guardian_id)


async def _visible(session: AsyncSession, caller: Caller, enrolment_id: UUID, *, lock: bool) -> Row:
    """The enrolment if the caller may reach it (see :meth:`Caller.sees_enrolment`), else 404 as if missing."""
    row = await enrolment_repository.with_place(session, enrolment_id, lock=lock)
    if row is None:
        raise NotFound("no such enrolment")
    guardian = caller.role == "parent" and await is_guardian(session, row["child_id"], caller.subject)
    kid = await family_repository.child_of(session, row["child_id"]) if caller.role == "operator" else None
    if not caller.sees_enrolment(row, kid, guardian=guardian):
        raise NotFound("no such enrolment")
    del row["programme_region_code"], row["programme_district_code"]
    return row


async def request(deps: Dependencies, caller: Caller, child_id: UUID, programme_id: UUID) -> EnrolmentOut:
    """Reserve a seat and ask allocation for the child's voucher (the parent, or an operator for them)."""
    async with deps.sessions() as session, session.begin():
        row = await _request_in(session, caller, child_id, programme_id, deps.clock.now())
    await deps.cache.invalidate()
    return EnrolmentOut(**row)


async def _request_in(
    session: AsyncSession,
    caller: Caller,
    child_id: UUID,
    programme_id: UUID,
    now: datetime,
    replaces: Row | None = None,
) -> Row:
    """Every check catalog can make, then the seat and the request; ``replaces``: the confirmed enrolment a change
    of club moves from (it stays confirmed until allocation has assigned the voucher to the new one)."""
    if caller.role == "parent" and not await is_guardian(session, child_id, caller.subject):
        raise NotFound("no such child")
    kid = await family_repository.child_of(session, child_id)
    if kid is None or (caller.role != "parent" and not caller.serves_child(kid)):
        raise NotFound("no such child")
    target = await programme_repository.with_provider_status(session, programme_id)
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
    added = await enrolment_repository.add_requested(
        session,
        {
            "id": new_id,
            "programme_id": programme_id,
            "provider_id": target["provider_id"],
            "child_id": child_id,
            "requested_by": caller.actor,
            "requested_at": now,
            "replaces_enrolment_id": replaces["id"] if replaces else None,
        },
    )
    if not added:
        raise Conflict("the child already has an active enrolment in this programme")
    if not await programme_repository.reserve_seat(session, programme_id):
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
    return await enrolment_repository.load(session, new_id)


async def get(deps: Dependencies, caller: Caller, enrolment_id: UUID) -> EnrolmentOut:
    async with deps.sessions() as session:
        return EnrolmentOut(**await _visible(session, caller, enrolment_id, lock=False))


async def of_child(
    deps: Dependencies, caller: Caller, child_id: UUID, limit: int, offset: int
) -> OffsetPage[EnrolmentOut]:
    async with deps.sessions() as session:
        if caller.role == "parent":
            allowed = await is_guardian(session, child_id, caller.subject)
        else:
            allowed = caller.role == "administrator" or caller.serves_child(
                await family_repository.child_of(session, child_id)
            )
        if not allowed:
            raise NotFound("no such child")
        rows = await enrolment_repository.of_child(session, child_id)
    items = [EnrolmentOut(**r) for r in rows]
    return OffsetPage[EnrolmentOut](items=items[offset : offset + limit], total=len(items), limit=limit, offset=offset)


async def of_provider(
    deps: Dependencies, caller: Caller, provider_id: UUID, limit: int, offset: int
) -> OffsetPage[EnrolmentOut]:
    async with deps.sessions() as session:
        owner = await provider_repository.load(session, provider_id)
        if owner is None or not caller.manages_provider(owner):
            raise NotFound("no such provider")
        rows, total = await enrolment_repository.of_provider(session, provider_id, limit, offset)
    return OffsetPage[EnrolmentOut](items=[EnrolmentOut(**r) for r in rows], total=total, limit=limit, offset=offset)


async def active_in(session: AsyncSession, programme_id: UUID) -> list[UUID]:
    return await enrolment_repository.active_in(session, programme_id)


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
    row = await enrolment_repository.end_active(session, enrolment_id, code, ended_by, now, reason)
    if row is None:
        return False
    await programme_repository.release_seat(session, row["programme_id"])
    await outbox.add_event(session, EnrolmentEndedV1(enrolment_id=enrolment_id, child_id=row["child_id"], reason=code))
    return True


END_CODES: dict[str, EnrolmentEndReason] = {"parent": "left", "provider_staff": "ended_by_provider"}


async def end(deps: Dependencies, caller: Caller, enrolment_id: UUID, reason: str) -> EnrolmentOut:
    """The parent, the provider or an operator ends an enrolment; the seat and the voucher are released."""
    async with deps.sessions() as session, session.begin():
        current = await _visible(session, caller, enrolment_id, lock=True)
        if not can_end(current["status"]):
            raise Conflict(f"the enrolment is already {current['status']}")
        if current["replaces_enrolment_id"] is not None and current["status"] == "requested":
            raise Conflict("this change of club is being decided by allocation; end it once it is confirmed")
        code = END_CODES.get(caller.role, "ended_by_operator")
        await end_in(session, enrolment_id, code, caller.actor, deps.clock.now(), reason)
        row = await _visible(session, caller, enrolment_id, lock=False)
    await deps.cache.invalidate()
    return EnrolmentOut(**row)


async def decline(deps: Dependencies, caller: Caller, enrolment_id: UUID, reason: str) -> EnrolmentOut:
    """The provider declines a child within the decline window (QOSYM_DECLINE_WINDOW_DAYS of the request)."""
    window_days = deps.settings.decline_window_days
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
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
        row = await _visible(session, caller, enrolment_id, lock=False)
    await deps.cache.invalidate()
    return EnrolmentOut(**row)


async def change_club(
    deps: Dependencies, caller: Caller, enrolment_id: UUID, programme_id: UUID, reason: str
) -> EnrolmentOut:
    """Request the new enrolment; the confirmed one stays until allocation has moved the voucher (the saga).

    Everything catalog can check is checked first (the target's region, age band, status, a free seat); nothing is
    ended here. On VoucherAssigned for the new enrolment the old one ends (``changed_club``); on
    VoucherAssignmentRejected only the new one is rejected and the child keeps the old seat and voucher.
    """
    async with deps.sessions() as session, session.begin():
        current = await _visible(session, caller, enrolment_id, lock=True)
        if current["status"] != "confirmed":
            raise Conflict("only a confirmed enrolment can be moved to another club")
        if current["programme_id"] == programme_id:
            raise RuleBroken("programme_id", "the child is already in this programme")
        if await enrolment_repository.pending_change(session, enrolment_id) is not None:
            raise Conflict("a change of club of this enrolment is already waiting for allocation's answer")
        region_code = await programme_repository.region_of(session, current["programme_id"])
        requested = await _request_in(
            session,
            caller,
            current["child_id"],
            programme_id,
            deps.clock.now(),
            {"id": enrolment_id, "region_code": region_code},
        )
        # the family's words stay with the old enrolment (shown once it ends); only the code travels
        await enrolment_repository.set_reason(session, enrolment_id, reason)
    await deps.cache.invalidate()
    return EnrolmentOut(**requested)


async def expire_unattended(deps: Dependencies) -> EnrolmentsExpired:
    """End confirmed enrolments never attended within QOSYM_FIRST_SESSION_DAYS of confirmation
    (``reservation_expired``).

    Decided per enrolment by :func:`catalog.domain.attendance.may_expire`: only after the month in which the window
    ends has been timesheeted for this enrolment (and QOSYM_TIMESHEET_GRACE_DAYS into the next month), so a timesheet
    that has not arrived yet never expires anyone. Each expiry frees the seat and, through EnrolmentEnded, the
    voucher.
    """
    now = deps.clock.now()
    days, grace_days = deps.settings.first_session_days, deps.settings.timesheet_grace_days
    async with deps.sessions() as session, session.begin():
        rows = await enrolment_repository.expiry_candidates(session, now - timedelta(days=days))
        due = [
            row["id"]
            for row in rows
            if may_expire(row["confirmed_at"], zone(row["timezone"]), now, days, grace_days, row["latest_period"])
        ]
        for enrolment_id in due:
            await end_in(session, enrolment_id, "reservation_expired", "system:expiry_sweep", now)
    if due:
        await deps.cache.invalidate()
    return EnrolmentsExpired(expired=len(due))


# --- consumed events (docs/architecture.md, "Delivery": each runs in the inbox's transaction) ------------------


async def on_voucher_assigned(deps: Dependencies, session: AsyncSession, event: VoucherAssignedV1) -> None:
    now = deps.clock.now()
    row = await enrolment_repository.with_programme_locked(session, event.enrolment_id)
    if row is None:
        return  # not one of ours (or long gone): nothing to confirm
    if row["status"] != "requested":
        if row["status"] in ("ended", "rejected") and row["voucher_id"] is None:
            # ended before the answer came: hand the voucher straight back
            await enrolment_repository.set_voucher(session, event.enrolment_id, event.voucher_id)
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
    await enrolment_repository.confirm(session, event.enrolment_id, event.voucher_id, now)
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


async def _move_voucher_back(session: AsyncSession, cancelled: Row) -> bool:
    """A change of club's new enrolment ended (its programme closed) before the voucher arrived, while the old one is
    still confirmed: ask allocation to move the voucher back to the old enrolment instead of releasing it."""
    old = await enrolment_repository.confirmed_with_programme(session, cancelled["replaces_enrolment_id"])
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


async def on_assignment_rejected(deps: Dependencies, session: AsyncSession, event: VoucherAssignmentRejectedV1) -> None:
    """Allocation refused the voucher: the request is rejected and its seat freed (the search cache is bumped)."""
    row = await enrolment_repository.reject_requested(session, event.enrolment_id, event.reason, deps.clock.now())
    if row is None:
        await _give_up_moving_back(session, event)
    else:
        await programme_repository.release_seat(session, row["programme_id"])
        if row["replaces_enrolment_id"] is not None:
            # a change of club refused: the old enrolment was never ended and keeps its seat and voucher
            # (compensation is only forgetting the family's reason for the change)
            await enrolment_repository.set_reason(session, row["replaces_enrolment_id"], None, if_confirmed=True)
        await outbox.add_event(
            session,
            EnrolmentRejectedV1(
                enrolment_id=event.enrolment_id,
                child_id=event.child_id,
                programme_id=row["programme_id"],
                reason=event.reason,
            ),
        )
    # seat changes bump the search cache version (inside the transaction; the short TTL bounds any race)
    await deps.cache.invalidate()


async def _give_up_moving_back(session: AsyncSession, event: VoucherAssignmentRejectedV1) -> None:
    """Allocation refused to move a voucher back to a confirmed enrolment (see ``_move_voucher_back``): release it
    from the cancelled enrolment that holds it after all, as any enrolment ended before its answer does."""
    holder = await enrolment_repository.ended_holding_voucher(session, event.enrolment_id)
    if holder is not None:
        await outbox.add_event(
            session,
            EnrolmentEndedV1(
                enrolment_id=holder["id"], child_id=holder["child_id"], reason=holder["reason_code"] or "left"
            ),
        )


async def on_child_registered(
    deps: Dependencies, session: AsyncSession, event: ChildRegisteredV1 | ChildDetailsChangedV1
) -> None:
    await family_repository.put_child(session, event.child_id, event.birth_date, event.region_code, event.district_code)


async def on_guardianship(
    deps: Dependencies, session: AsyncSession, event: GuardianshipEstablishedV1 | GuardianshipEndedV1
) -> None:
    active = isinstance(event, GuardianshipEstablishedV1)
    await family_repository.put_guardianship(session, event.child_id, event.guardian_id, active)
