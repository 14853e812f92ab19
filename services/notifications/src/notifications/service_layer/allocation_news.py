"""Allocation's news: applications, the round's close, the waitlist, and vouchers (with a reminder to use one).

The round's close and an application arrive on two topics in either order: whichever comes second tells the
applicant. Every handler runs inside the consumer wrapper's transaction (docs/architecture.md, "Delivery").
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.adapters import applications_repository as applications
from notifications.adapters import reminders_repository
from notifications.domain import messages as m
from notifications.domain import notices, reminders
from notifications.service_layer import round_results
from notifications.service_layer.dependencies import Dependencies
from notifications.service_layer.fanout import publish, publish_notices
from qosym_contracts.allocation import (
    ApplicationSubmittedV1,
    ApplicationWaitlistedV1,
    ApplicationWithdrawnV1,
    RoundClosedV1,
    VoucherAssignedV1,
    VoucherAwardedV1,
    VoucherExpiredV1,
    VoucherReleasedV1,
    VoucherRevokedV1,
)

# --- rounds and applications -------------------------------------------------------------------


async def on_application_submitted(deps: Dependencies, session: AsyncSession, event: ApplicationSubmittedV1) -> None:
    await applications.remember_application(session, event.application_id, event.round_id, event.child_id)
    for notice in notices.application_received(event):
        await publish(session, notice, event.event_id, deps.clock.now())
    closed = await applications.closed_round(session, event.round_id)
    if closed is not None:  # the round's closing was consumed first (another topic): tell this applicant too
        await _tell_round_closed(deps, session, event.application_id, closed, event.child_id)


async def on_application_withdrawn(deps: Dependencies, session: AsyncSession, event: ApplicationWithdrawnV1) -> None:
    await applications.remember_application(session, event.application_id, event.round_id, event.child_id)
    await applications.mark_withdrawn(session, event.application_id)
    await publish_notices(deps, session, event)


async def on_round_closed(deps: Dependencies, session: AsyncSession, event: RoundClosedV1) -> None:
    await applications.close_round(
        session, event.round_id, event.region_code, event.event_id, event.occurred_at, event.early_close_reason
    )
    closed = await applications.closed_round(session, event.round_id)
    assert closed is not None  # recorded just above (or by an earlier delivery of the close)
    known = await applications.open_applications_of_round(session, event.round_id)
    await round_results.tell_round_closed(session, closed, known, deps.clock.now())


async def _tell_round_closed(
    deps: Dependencies,
    session: AsyncSession,
    application_id: UUID,
    closed: applications.ClosedRound,
    child_id: UUID,
) -> None:
    notice = round_results.round_closed_notice(application_id, closed, child_id)
    await publish(session, notice, closed.closed_event_id, deps.clock.now())


async def on_waitlisted(deps: Dependencies, session: AsyncSession, event: ApplicationWaitlistedV1) -> None:
    await applications.remember_application(session, event.application_id, event.round_id, event.child_id)
    known = await applications.application_for_update(session, event.application_id)
    previous = known.position if known else None
    if previous == event.position:
        return
    await applications.set_position(session, event.application_id, event.position)
    payload = {
        "application_id": str(event.application_id),
        "round_id": str(event.round_id),
        "child_id": str(event.child_id),
        "position": event.position,
        "previous_position": previous,
    }
    notice = m.Notice(
        m.waitlist_kind(previous),
        m.Guardians(event.child_id),
        event.application_id,
        f"{event.application_id}:{event.position}",
        payload,
    )
    await publish(session, notice, event.event_id, deps.clock.now())


# --- vouchers ----------------------------------------------------------------------------------


async def on_voucher_awarded(deps: Dependencies, session: AsyncSession, event: VoucherAwardedV1) -> None:
    await applications.remember_application(session, event.application_id, event.round_id, event.child_id)
    known = await applications.application_for_update(session, event.application_id)
    payload: dict[str, Any] = {
        "voucher_id": str(event.voucher_id),
        "application_id": str(event.application_id),
        "round_id": str(event.round_id),
        "child_id": str(event.child_id),
        "direction": event.direction,
        "monthly_value_tiyn": event.monthly_value_tiyn,
        "months": event.months,
        "valid_until": event.valid_until.isoformat(),
        "assign_by": event.assign_by.isoformat() if event.assign_by else None,
    }
    kind = m.award_kind(bool(known and known.was_waitlisted))
    await publish(
        session,
        notices.voucher_notice(kind, event.voucher_id, payload, event.child_id),
        event.event_id,
        deps.clock.now(),
    )
    await applications.set_position(session, event.application_id, None)
    if event.assign_by is not None:
        plan = reminders.voucher_reminder(
            event.assign_by, deps.reminding.voucher_days, deps.reminding.zone, deps.clock.now()
        )
        if plan is not None:
            await reminders_repository.schedule_reminder(
                session, plan.kind, event.voucher_id, event.child_id, plan.fire_at, plan.deadline, payload
            )


async def on_voucher_assigned(deps: Dependencies, session: AsyncSession, event: VoucherAssignedV1) -> None:
    """The voucher is in use: the reminder to use it is no longer needed."""
    await reminders_repository.cancel_reminder(session, m.VOUCHER_USE_REMINDER, event.voucher_id)


async def on_voucher_ended(
    deps: Dependencies, session: AsyncSession, event: VoucherExpiredV1 | VoucherRevokedV1
) -> None:
    await reminders_repository.cancel_reminder(session, m.VOUCHER_USE_REMINDER, event.voucher_id)
    await publish_notices(deps, session, event)


async def on_voucher_released(deps: Dependencies, session: AsyncSession, event: VoucherReleasedV1) -> None:
    await publish_notices(deps, session, event)
