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

import logging
from collections.abc import Mapping, Sequence
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from payments.adapters import (
    accrual_repository,
    enrolment_repository,
    hold_repository,
    ledger,
    round_repository,
    voucher_repository,
)
from payments.adapters.accrual_repository import Posting
from payments.adapters.voucher_repository import NewVoucher
from payments.domain.aggregates import Accrual
from payments.domain.funding_batch import Award, Funding, plan_fundings
from payments.domain.ledger import AccountKind, account_code
from payments.domain.month_batch import PayableMonth, accounts_of, plan_months
from payments.service_layer import budget_watch
from payments.service_layer.dependencies import Dependencies
from qosym_chassis import outbox, parking
from qosym_chassis.consumer import Reject
from qosym_contracts import payments as events
from qosym_contracts.allocation import VoucherAwardedV1
from qosym_contracts.attendance import AttendanceConfirmedV1, DisputeResolvedV1

log = logging.getLogger("payments.flows")

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
    await outbox.add_events(
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


async def on_many_vouchers_awarded(
    deps: Dependencies, session: AsyncSession, batch: Sequence[VoucherAwardedV1]
) -> Mapping[UUID, str]:
    """``flows.on_voucher_awarded`` for a batch (a round's burst of awards): each voucher funded from its round's
    budget, or refused whole (and said so) when the budget, as the batch's earlier awards left it, has too little.

    The rounds' budget accounts are locked first, in ascending id order; the batch's funding transfers are written
    set-based, cut only where a funding crosses a budget threshold (the watch reads the ledger as it is then, as
    the per-event handler does). An award whose round is not here yet is returned to be parked on ``round:<id>``."""
    budgets = sorted({account_code(AccountKind.ROUND_BUDGET, e.round_id) for e in batch})
    locked = await ledger.lock(session, budgets, missing_ok=True)
    known = await round_repository.rounds_of_awards(session, (e.round_id for e in batch), (e.voucher_id for e in batch))
    park = {e.event_id: f"round:{e.round_id}" for e in batch if e.round_id not in known.rounds}
    seen = set(known.recorded)
    awards: list[Award] = []
    by_event: dict[UUID, VoucherAwardedV1] = {}
    for e in batch:
        if e.round_id not in known.rounds or e.voucher_id in seen:
            continue
        seen.add(e.voucher_id)
        awards.append(Award(e.event_id, e.voucher_id, known.rounds[e.round_id], e.monthly_value_tiyn * e.months))
        by_event[e.event_id] = e
    if not awards:
        return park
    plan = plan_fundings(
        awards,
        {code: state.available for code, state in locked.items()},
        {code: state.balance for code, state in locked.items()},
        deps.policy.thresholds_percent,
        known.thresholds_reached,
        uuid4,
    )
    reached = {round_id: set(levels) for round_id, levels in known.thresholds_reached.items()}
    segment: list[Funding] = []
    for i, funding in enumerate(plan):
        segment.append(funding)
        if funding.thresholds_crossed or i == len(plan) - 1:
            await _write_fundings(session, segment, by_event)
            segment = []
        if funding.thresholds_crossed:
            round_ = funding.award.round
            await budget_watch.check_thresholds(
                session,
                round_,
                deps.policy,
                by_event[funding.award.event_id].occurred_at,
                funding.balance_after,
                frozenset(reached.setdefault(round_.round_id, set())),
            )
            reached[round_.round_id].update(funding.thresholds_crossed)
    await parking.provided_all(session, (f"voucher:{funding.award.voucher_id}" for funding in plan))
    return park


async def _write_fundings(
    session: AsyncSession, fundings: list[Funding], by_event: Mapping[UUID, VoucherAwardedV1]
) -> None:
    funded = [f for f in fundings if f.transfer is not None]
    for region_code in sorted({f.award.round.region_code for f in funded}):
        await ledger.open_accounts(
            session,
            AccountKind.VOUCHER,
            [f.award.voucher_id for f in funded if f.award.round.region_code == region_code],
            region_code,
        )
    await ledger.apply_many(session, [f.transfer for f in funded if f.transfer is not None])
    await voucher_repository.insert_vouchers(
        session,
        [
            NewVoucher(
                voucher_id=e.voucher_id,
                round_id=e.round_id,
                region_code=e.region_code,
                child_id=e.child_id,
                direction=e.direction,
                monthly_value_tiyn=e.monthly_value_tiyn,
                months=e.months,
                valid_until=e.valid_until,
                account_code=f.award.voucher_account if f.transfer else None,
                available_at_refusal_tiyn=None if f.transfer else f.available_before,
            )
            for f in fundings
            for e in (by_event[f.award.event_id],)
        ],
    )
    refused = [f for f in fundings if f.transfer is None]
    for f in refused:
        log.warning(
            "voucher funding refused: the round's budget has %d tiyn, %d needed",
            f.available_before,
            f.award.requested_tiyn,
        )
    await outbox.add_events(
        session,
        [
            events.VoucherFundingRefusedV1(
                round_id=f.award.round.round_id,
                voucher_id=f.award.voucher_id,
                region_code=by_event[f.award.event_id].region_code,
                requested_tiyn=f.award.requested_tiyn,
                available_tiyn=max(0, f.available_before),
            )
            for f in refused
        ],
    )
