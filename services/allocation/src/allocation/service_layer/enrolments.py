"""Catalog's enrolments: a requested enrolment gets the child's voucher (or a reason it cannot), an ended one
releases it (docs/architecture.md, "Service anatomy")."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from allocation.adapters import child_repository, round_repository, voucher_repository
from allocation.domain.rounds import age_on
from allocation.service_layer.dependencies import Dependencies
from qosym_chassis import outbox
from qosym_contracts import allocation as events
from qosym_contracts.catalog import EnrolmentEndedV1, EnrolmentRequestedV1


async def on_enrolment_requested(deps: Dependencies, session: AsyncSession, event: EnrolmentRequestedV1) -> None:
    """Assign the child's valid voucher of that direction to the enrolment, or reject with a reason."""
    today = event.occurred_at.date()

    async def reject(reason: events.AssignmentRejectReason) -> None:
        await outbox.add_event(
            session,
            events.VoucherAssignmentRejectedV1(
                enrolment_id=event.enrolment_id,
                child_id=event.child_id,
                reason=reason,
            ),
        )

    existing = await voucher_repository.voucher_of_enrolment(session, event.enrolment_id)
    if existing is not None:  # a redelivered request under a new event id: answer the same way
        return
    vouchers = await voucher_repository.lock_child_vouchers(session, event.child_id)
    # a change of club: the voucher of the enrolment being replaced moves only if every check below passes, so a
    # refusal leaves it where it was (catalog ends the old enrolment only after our VoucherAssigned)
    moving = [
        v
        for v in vouchers
        if event.replaces_enrolment_id is not None
        and v.status == "assigned"
        and v.enrolment_id == event.replaces_enrolment_id
        and v.direction == event.direction
        and v.valid_until >= today
    ]
    usable = moving + [
        v
        for v in vouchers
        if v.direction == event.direction
        and v.valid_until >= today
        and (
            v.status == "awarded" or (v.status == "released" and v.reassignable_until and v.reassignable_until >= today)
        )
    ]
    if not usable:
        if any(v.status == "assigned" and v.direction == event.direction for v in vouchers):
            await reject("already_assigned")
        else:
            await reject("no_valid_voucher")
        return
    voucher = usable[0]
    if voucher.region_code != event.region_code:
        await reject("wrong_region")
        return
    child = await child_repository.get_child(session, event.child_id)
    if child is not None and not event.age_min <= age_on(child.birth_date, today) <= event.age_max:
        await reject("age_band")
        return
    await voucher_repository.assign_voucher(session, voucher.voucher_id, event.enrolment_id)
    await outbox.add_event(
        session,
        events.VoucherAssignedV1(
            voucher_id=voucher.voucher_id,
            enrolment_id=event.enrolment_id,
            child_id=event.child_id,
            programme_id=event.programme_id,
            provider_id=event.provider_id,
            direction=voucher.direction,
            monthly_value_tiyn=voucher.monthly_value_tiyn,
            valid_until=voucher.valid_until,
        ),
    )


async def on_enrolment_ended(deps: Dependencies, session: AsyncSession, event: EnrolmentEndedV1) -> None:
    """Release the voucher: the same child may use it for another enrolment within the round's grace period."""
    voucher = await voucher_repository.voucher_of_enrolment(session, event.enrolment_id, lock=True)
    if voucher is None or voucher.status != "assigned":
        return
    current = await round_repository.get_round(session, voucher.round_id)
    assert current is not None
    until = event.occurred_at.date() + timedelta(days=current.release_grace_days)
    await voucher_repository.set_voucher_status(
        session, voucher.voucher_id, "released", reassignable_until=until, at=deps.clock.now()
    )
    await outbox.add_event(
        session,
        events.VoucherReleasedV1(
            voucher_id=voucher.voucher_id,
            child_id=voucher.child_id,
            round_id=voucher.round_id,
            enrolment_id=event.enrolment_id,
            reason="enrolment_ended",
            reassignable_until=until,
        ),
    )
