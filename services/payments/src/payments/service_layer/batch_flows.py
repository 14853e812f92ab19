"""Set-based forms of payments' hot handlers, for a batch of events applied in one transaction.

Each has the shape of a chassis batch handler (``Many(handler)`` in ``SUBSCRIPTIONS``): ``handler(deps, session,
events)`` gets consecutive events of one type in arrival order, applies them in the caller's transaction and
returns the ids of the events to park, each with the key it waits for (empty when every event was applied). The
result equals one per-event handler call per event in that order (payments.service_layer.flows): the same
transfers with the same business keys, the same records, the same outgoing events.

Locks are taken in one global order, whatever the order of the batch's events: first the vouchers' rows in
ascending voucher id, then the union of the batch's ledger accounts in ascending account id, all before any
transfer; so two batches (or a batch and a per-event handler, which takes one voucher row and then its accounts
in id order) over overlapping vouchers or accounts never deadlock. Then every transfer of the batch is written by
one call of ``ledger_transfer_many``, under the same CHECKs, unique keys and triggers as a single transfer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from payments.adapters import accrual_repository, enrolment_repository, hold_repository, ledger, staged_events
from payments.adapters.accrual_repository import Posting
from payments.domain.aggregates import Accrual
from payments.domain.ledger import AccountKind
from payments.domain.month_batch import PayableMonth, accounts_of, plan_months
from payments.service_layer.dependencies import Dependencies
from qosym_chassis.consumer import Reject
from qosym_contracts import payments as events
from qosym_contracts.attendance import AttendanceConfirmedV1, DisputeResolvedV1

PayableEvent = AttendanceConfirmedV1 | DisputeResolvedV1


async def on_many_payable_months(
    deps: Dependencies, session: AsyncSession, batch: Sequence[PayableEvent]
) -> Mapping[UUID, str]:
    """``flows.on_payable_month`` for a batch: each month posted once, its hold made on demand when it has none.

    An event whose enrolment is not here yet is returned to be parked on ``enrolment:<id>``; a timesheet whose
    provider is not the enrolment's is refused (``Reject``: the batch is not applied, and the chassis splits it to
    dead-letter that event alone, as the per-event handler does)."""
    found = await enrolment_repository.enrolments_and_vouchers(session, (e.enrolment_id for e in batch))
    park = {e.event_id: f"enrolment:{e.enrolment_id}" for e in batch if e.enrolment_id not in found}
    present = [e for e in batch if e.enrolment_id in found]
    for e in present:
        if e.provider_id != found[e.enrolment_id][0].provider_id:
            raise Reject(f"event {e.event_id}: the timesheet's provider is not the enrolment's provider")
    if not present:
        return park
    states = await hold_repository.months_of(session, ((e.enrolment_id, e.period) for e in present))
    months = [
        PayableMonth(
            event_id=e.event_id,
            enrolment=found[e.enrolment_id][0],
            voucher=found[e.enrolment_id][1],
            period=e.period,
            payable_sessions=e.payable_sessions,
            planned_sessions=e.planned_sessions,
            month=states[(e.enrolment_id, e.period)],
        )
        for e in present
    ]
    by_event = {e.event_id: e for e in present}

    # the union of the batch's accounts, locked in ascending id order before any transfer
    codes = sorted(accounts_of(m for m in months if not m.month.accrued))
    accounts = await ledger.lock(session, codes, missing_ok=True)
    missing = {m.enrolment.payable_account: m.enrolment for m in months if m.enrolment.payable_account in codes}
    missing = {code: enrolment for code, enrolment in missing.items() if code not in accounts}
    if missing:
        # a provider's first month without a hold (its payable account is opened at the enrolment's confirmation,
        # so this is rare): open it, then lock the batch's accounts again (the new account has the highest id)
        for enrolment in missing.values():
            await ledger.open_account(
                session, AccountKind.PROVIDER_PAYABLE, enrolment.provider_id, enrolment.region_code
            )
        accounts = await ledger.lock(session, codes, missing_ok=True)
    plan = plan_months(months, {code: state.available for code, state in accounts.items()}, uuid4)

    # The events are staged first: the transfers lock the providers' payable accounts, so the transaction should
    # commit soon after them (as in the per-event handler).
    await staged_events.add_events(
        session,
        [
            events.PaymentAccruedV1(
                accrual_id=p.accrual_id,
                provider_id=p.request.enrolment.provider_id,
                enrolment_id=p.request.enrolment.enrolment_id,
                child_id=p.request.enrolment.child_id,
                voucher_id=p.request.voucher.voucher_id,
                programme_id=p.request.enrolment.programme_id,
                timesheet_id=by_event[p.request.event_id].timesheet_id,
                region_code=p.request.enrolment.region_code,
                period=p.request.period,
                amount_tiyn=p.amount_tiyn,
                payable_sessions=p.request.payable_sessions,
                planned_sessions=p.request.planned_sessions,
                price_per_month_tiyn=p.request.enrolment.price_per_month_tiyn,
            )
            for p in plan.months
        ],
    )
    await ledger.apply_many(session, plan.transfers)
    await hold_repository.insert_holds(session, [p.hold for p in plan.months if p.new_hold and p.hold])
    now = deps.clock.now()
    await accrual_repository.record_postings(
        session,
        [
            Posting(
                accrual=Accrual(
                    accrual_id=p.accrual_id,
                    enrolment_id=p.request.enrolment.enrolment_id,
                    period=p.request.period,
                    provider_id=p.request.enrolment.provider_id,
                    child_id=p.request.enrolment.child_id,
                    voucher_id=p.request.voucher.voucher_id,
                    programme_id=p.request.enrolment.programme_id,
                    timesheet_id=by_event[p.request.event_id].timesheet_id,
                    region_code=p.request.enrolment.region_code,
                    amount_tiyn=p.amount_tiyn,
                    payable_sessions=p.request.payable_sessions,
                    planned_sessions=p.request.planned_sessions,
                    price_per_month_tiyn=p.request.enrolment.price_per_month_tiyn,
                    batch_id=None,
                    paid_at=None,
                    posted_at=by_event[p.request.event_id].occurred_at,
                ),
                hold_id=p.hold.transfer_id if p.hold else None,
                round_id=p.request.voucher.round_id,
                transfer_id=p.accrual_id if p.amount_tiyn else None,
                cause_event_id=p.request.event_id,
            )
            for p in plan.months
        ],
        at=now,
    )
    return park
