"""What payments does with the events it consumes. Each handler runs inside the consumer's transaction
(with the inbox row), so its ledger transfers, records and outgoing events commit together or not at all.

Order tolerance: events from different topics arrive in any order. An event whose prerequisite is not
here yet (the round of a VoucherAwarded, the voucher of an EnrolmentConfirmed, the enrolment of an
AttendanceConfirmed …) raises ``Park(key)``: the chassis parks it with its inbox row, and applies it, in arrival
order, in the transaction that brings the prerequisite (``parking.provided``). Nothing is dropped and nothing is
applied twice: the inbox deduplicates event ids, and every money effect has a unique business key.
"""

from __future__ import annotations

import logging
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from payments.adapters import (
    accrual_repository,
    enrolment_repository,
    hold_repository,
    ledger,
    provider_repository,
    region_repository,
    round_repository,
    voucher_repository,
)
from payments.domain import periods
from payments.domain.accrual import accrual_amount, hold_amount
from payments.domain.aggregates import Accrual, Enrolment, Hold, Provider, Voucher
from payments.domain.budget import InvalidTerms, RegionBudget
from payments.domain.ledger import AccountKind, Transfer, TransferKind
from payments.domain.payment_order import Party
from payments.service_layer import budget_watch
from payments.service_layer.dependencies import Dependencies
from qosym_chassis import outbox, parking
from qosym_chassis.consumer import Reject
from qosym_chassis.parking import Park
from qosym_contracts import payments as events
from qosym_contracts.allocation import (
    RegionConfiguredV1,
    RoundOpenedV1,
    VoucherAwardedV1,
    VoucherExpiredV1,
    VoucherReleasedV1,
    VoucherRevokedV1,
)
from qosym_contracts.attendance import AttendanceConfirmedV1, DisputeResolvedV1
from qosym_contracts.catalog import EnrolmentConfirmedV1, EnrolmentEndedV1, ProviderVerifiedV1

log = logging.getLogger("payments.flows")


# --- regions, rounds, providers -----------------------------------------------------------------------


async def on_region_configured(deps: Dependencies, session: AsyncSession, event: RegionConfiguredV1) -> None:
    try:
        budget = RegionBudget(
            code=event.region_code,
            revision=event.revision,
            budget_tiyn=event.budget_tiyn,
            voucher_monthly_value_tiyn=dict(event.voucher_monthly_value_tiyn),
            voucher_months=event.voucher_months,
            timezone=event.timezone,
            treasury=(
                Party(
                    name=event.treasury_account.name, iban=event.treasury_account.iban, bic=event.treasury_account.bic
                )
                if event.treasury_account
                else None
            ),
        )
    except InvalidTerms as exc:  # money terms that can never be applied: dead-letter, never guess
        raise Reject(str(exc)) from exc
    await region_repository.upsert_region_budget(session, budget)
    await parking.provided(session, f"region:{event.region_code}")


async def on_round_opened(deps: Dependencies, session: AsyncSession, event: RoundOpenedV1) -> None:
    """Appropriation: treasury → the round's budget, once per round (business key approp:<round>)."""
    if event.budget_tiyn is None:
        raise Reject("RoundOpened carries no budget_tiyn: the round's budget cannot be appropriated")
    if await round_repository.get_round(session, event.round_id) is not None:
        return
    treasury = await ledger.open_account(session, AccountKind.TREASURY, event.region_code, event.region_code)
    budget = await ledger.open_account(session, AccountKind.ROUND_BUDGET, event.round_id, event.region_code)
    if event.budget_tiyn > 0:
        await ledger.apply(
            session,
            Transfer(
                uuid4(), f"approp:{event.round_id}", TransferKind.APPROPRIATION, treasury, budget, event.budget_tiyn
            ),
        )
    await round_repository.insert_round(
        session, event.round_id, event.region_code, event.budget_tiyn, budget, event.occurred_at
    )
    await parking.provided(session, f"round:{event.round_id}")


async def on_provider_verified(deps: Dependencies, session: AsyncSession, event: ProviderVerifiedV1) -> None:
    await provider_repository.upsert_provider(
        session,
        Provider(event.provider_id, event.bin, event.name, event.region_code, event.iban, event.bank_bic),
    )


# --- vouchers -----------------------------------------------------------------------------------------


async def on_voucher_awarded(deps: Dependencies, session: AsyncSession, event: VoucherAwardedV1) -> None:
    """Fund the voucher from its round's budget, or refuse it whole (and say so) if the budget would go below 0."""
    known = await round_repository.round_of_award(session, event.round_id, event.voucher_id)  # locks the round's budget
    round_ = known.round
    if round_ is None:
        raise Park(f"round:{event.round_id}")
    if known.voucher_recorded:
        return None
    requested = event.monthly_value_tiyn * event.months
    available = known.budget_available
    voucher_code: str | None = None
    if available >= requested:
        voucher_code = await ledger.open_account(session, AccountKind.VOUCHER, event.voucher_id, event.region_code)
        await ledger.apply(
            session,
            Transfer(
                uuid4(),
                f"fund:{event.voucher_id}",
                TransferKind.FUNDING,
                round_.budget_account,
                voucher_code,
                requested,
            ),
        )
    await voucher_repository.insert_voucher(
        session,
        voucher_id=event.voucher_id,
        round_id=event.round_id,
        region_code=event.region_code,
        child_id=event.child_id,
        direction=event.direction,
        monthly_value_tiyn=event.monthly_value_tiyn,
        months=event.months,
        valid_until=event.valid_until,
        account_code=voucher_code,
        available_at_refusal_tiyn=None if voucher_code else available,
    )
    if voucher_code is None:
        log.warning("voucher funding refused: the round's budget has %d tiyn, %d needed", available, requested)
        await outbox.add_event(
            session,
            events.VoucherFundingRefusedV1(
                round_id=event.round_id,
                voucher_id=event.voucher_id,
                region_code=event.region_code,
                requested_tiyn=requested,
                available_tiyn=max(0, available),
            ),
        )
    else:
        balance = known.budget_balance - requested  # under the budget's lock: what the funding left
        await budget_watch.check_thresholds(
            session, round_, deps.policy, event.occurred_at, balance, known.thresholds_reached
        )
    await parking.provided(session, f"voucher:{event.voucher_id}")
    return None


async def on_voucher_released(deps: Dependencies, session: AsyncSession, event: VoucherReleasedV1) -> None:
    """A release within a grace period may be re-assigned to the same child: only a final release ends it."""
    if event.reassignable_until is None:
        await _finish_voucher(deps, session, event, f"released_{event.reason}")


async def on_voucher_finished(
    deps: Dependencies, session: AsyncSession, event: VoucherExpiredV1 | VoucherRevokedV1
) -> None:
    reason = event.reason if isinstance(event, VoucherExpiredV1) else "revoked"
    await _finish_voucher(deps, session, event, reason)


async def _finish_voucher(
    deps: Dependencies,
    session: AsyncSession,
    event: VoucherReleasedV1 | VoucherExpiredV1 | VoucherRevokedV1,
    reason: str,
) -> None:
    voucher = await voucher_repository.get_voucher(session, event.voucher_id, lock=True)
    if voucher is None:
        raise Park(f"voucher:{event.voucher_id}")
    if voucher.status != "funded":  # refused (nothing to return) or already ended
        return None
    await voucher_repository.end_voucher(session, voucher.voucher_id, reason[:200], event.occurred_at)
    await _return_unused(deps, session, voucher, "end")
    return None


async def _return_unused(deps: Dependencies, session: AsyncSession, voucher: Voucher, cause: str) -> None:
    """Give a finished voucher's available balance (not what is still held) back to its round's budget."""
    accounts = await ledger.lock(session, [voucher.account, voucher.budget_account])
    available = accounts[voucher.account].available
    if available > 0:
        await ledger.apply(
            session,
            Transfer(
                uuid4(),
                f"return:{voucher.voucher_id}:{cause}",
                TransferKind.RETURN,
                voucher.account,
                voucher.budget_account,
                available,
            ),
        )


# --- enrolments and holds -----------------------------------------------------------------------------


async def on_enrolment_confirmed(deps: Dependencies, session: AsyncSession, event: EnrolmentConfirmedV1) -> None:
    """Hold the first month's price against the voucher (capped by its monthly value and balance)."""
    voucher, timezone = await voucher_repository.voucher_and_timezone(session, event.voucher_id, event.region_code)
    if voucher is None:
        raise Park(f"voucher:{event.voucher_id}")
    if timezone is None:
        raise Park(f"region:{event.region_code}")
    enrolment = Enrolment(
        enrolment_id=event.enrolment_id,
        voucher_id=event.voucher_id,
        provider_id=event.provider_id,
        child_id=event.child_id,
        programme_id=event.programme_id,
        region_code=event.region_code,
        price_per_month_tiyn=event.price_per_month_tiyn,
        sessions_per_month=event.sessions_per_month,
        status="active",
    )
    period = periods.period_of(event.occurred_at, timezone)
    if not await enrolment_repository.insert_enrolment(session, enrolment, period, event.occurred_at):
        return None
    if voucher.status == "refused":  # nothing to hold; the provider's payable account exists all the same
        await ledger.open_account(session, AccountKind.PROVIDER_PAYABLE, event.provider_id, event.region_code)
    else:
        await _hold(deps, session, enrolment, voucher, period, seq=1)  # a new enrolment has no hold yet
    await parking.provided(session, f"enrolment:{event.enrolment_id}")
    return None


async def _hold(
    deps: Dependencies, session: AsyncSession, enrolment: Enrolment, voucher: Voucher, period: str, *, seq: int
) -> Hold | None:
    """Hold (enrolment, period)'s price against the voucher: min(price, monthly value, available balance).
    Holds are made on demand: at the enrolment's confirmation, or for a later month when it is posted."""
    if voucher.status == "refused":
        return None
    payable = enrolment.payable_account
    accounts = await ledger.lock(session, [voucher.account, payable], missing_ok=True)
    if payable not in accounts:  # the provider's first enrolment: open its payable account (a newer, higher id)
        await ledger.open_account(session, AccountKind.PROVIDER_PAYABLE, enrolment.provider_id, enrolment.region_code)
        accounts = await ledger.lock(session, [voucher.account, payable])
    amount = hold_amount(
        enrolment.price_per_month_tiyn, voucher.monthly_value_tiyn, accounts[voucher.account].available
    )
    if amount == 0:
        return None
    transfer, _ = await ledger.apply(
        session,
        Transfer(
            uuid4(),
            f"hold:{enrolment.enrolment_id}:{period}:{seq}",
            TransferKind.HOLD,
            voucher.account,
            payable,
            amount,
        ),
    )
    hold = Hold(transfer.id, enrolment.enrolment_id, period, seq, amount, "open")
    await hold_repository.insert_hold(session, hold)
    return hold


def _release(hold: Hold, enrolment: Enrolment, voucher: Voucher, kind: TransferKind) -> Transfer:
    """The transfer that posts or voids a hold: the whole held amount, between the hold's accounts reversed."""
    return Transfer(
        uuid4(),
        f"{kind.value}:{hold.transfer_id}",
        kind,
        enrolment.payable_account,
        voucher.account,
        hold.amount_tiyn,
        pending_id=hold.transfer_id,
    )


async def _void(deps: Dependencies, session: AsyncSession, hold: Hold, enrolment: Enrolment, voucher: Voucher) -> None:
    await hold_repository.resolve_hold(session, hold.transfer_id, "voided", deps.clock.now())
    await ledger.apply(session, _release(hold, enrolment, voucher, TransferKind.VOID))


async def on_enrolment_ended(deps: Dependencies, session: AsyncSession, event: EnrolmentEndedV1) -> None:
    """Void the holds of the months after the end; keep the last month's (it may still be timesheeted), unless
    the enrolment never started (reservation_expired): then every hold is voided."""
    enrolment = await enrolment_repository.get_enrolment(session, event.enrolment_id)
    if enrolment is None:
        raise Park(f"enrolment:{event.enrolment_id}")
    timezone = await region_repository.region_timezone(session, enrolment.region_code) or "UTC"
    end_period = periods.period_of(event.occurred_at, timezone)
    if not await enrolment_repository.end_enrolment(session, enrolment.enrolment_id, end_period, event.occurred_at):
        return None
    voucher = await voucher_repository.get_voucher(session, enrolment.voucher_id, lock=True)
    assert voucher is not None
    never_started = event.reason == "reservation_expired"
    for hold in await hold_repository.open_holds(session, enrolment.enrolment_id):
        if never_started or hold.period > end_period:
            await _void(deps, session, hold, enrolment, voucher)
    if voucher.status == "ended":
        await _return_unused(deps, session, voucher, f"after:{event.event_id}")
    return None


# --- accruals -----------------------------------------------------------------------------------------


async def on_payable_month(
    deps: Dependencies, session: AsyncSession, event: AttendanceConfirmedV1 | DisputeResolvedV1
) -> None:
    """Post floor(price × payable / planned), capped by the monthly value and the hold; void the rest. Once per
    (enrolment, period), whatever event ids or redeliveries carry it."""
    found = await enrolment_repository.enrolment_and_voucher(session, event.enrolment_id)  # locks the voucher's row
    if found is None:
        raise Park(f"enrolment:{event.enrolment_id}")
    enrolment, voucher = found
    if event.provider_id != enrolment.provider_id:
        raise Reject("the timesheet's provider is not the enrolment's provider")
    month = await hold_repository.month_of(session, enrolment.enrolment_id, event.period)
    if month.accrued:
        return None  # the same month again (a new event id, or a dispute resolved after a confirmation)
    hold = month.open_hold or await _hold(deps, session, enrolment, voucher, event.period, seq=month.next_hold_seq)
    amount = accrual_amount(
        enrolment.price_per_month_tiyn, event.payable_sessions, event.planned_sessions, voucher.monthly_value_tiyn
    )
    amount = min(amount, hold.amount_tiyn if hold else 0)
    accrual_id = uuid4()
    # The event is staged first: the transfers below lock the provider's payable account, which every posting
    # for this provider needs, so the transaction should commit soon after them.
    await outbox.add_event(
        session,
        events.PaymentAccruedV1(
            accrual_id=accrual_id,
            provider_id=enrolment.provider_id,
            enrolment_id=enrolment.enrolment_id,
            child_id=enrolment.child_id,
            voucher_id=voucher.voucher_id,
            programme_id=enrolment.programme_id,
            timesheet_id=event.timesheet_id,
            region_code=enrolment.region_code,
            period=event.period,
            amount_tiyn=amount,
            payable_sessions=event.payable_sessions,
            planned_sessions=event.planned_sessions,
            price_per_month_tiyn=enrolment.price_per_month_tiyn,
        ),
    )
    if hold is not None:
        await ledger.apply(session, _release(hold, enrolment, voucher, TransferKind.POST))
        if amount > 0:
            await ledger.apply(
                session,
                Transfer(
                    accrual_id,
                    f"accrual:{enrolment.enrolment_id}:{event.period}",
                    TransferKind.ACCRUAL,
                    voucher.account,
                    enrolment.payable_account,
                    amount,
                    pending_id=hold.transfer_id,
                ),
            )
    accrual = Accrual(
        accrual_id=accrual_id,
        enrolment_id=enrolment.enrolment_id,
        period=event.period,
        provider_id=enrolment.provider_id,
        child_id=enrolment.child_id,
        voucher_id=voucher.voucher_id,
        programme_id=enrolment.programme_id,
        timesheet_id=event.timesheet_id,
        region_code=enrolment.region_code,
        amount_tiyn=amount,
        payable_sessions=event.payable_sessions,
        planned_sessions=event.planned_sessions,
        price_per_month_tiyn=enrolment.price_per_month_tiyn,
        batch_id=None,
        paid_at=None,
        posted_at=event.occurred_at,
    )
    await accrual_repository.record_posting(
        session,
        accrual,
        hold_id=hold.transfer_id if hold else None,
        round_id=voucher.round_id,
        transfer_id=accrual_id if amount else None,
        cause_event_id=event.event_id,
        at=deps.clock.now(),
    )
    if voucher.status == "ended":
        await _return_unused(deps, session, voucher, f"after:{accrual_id}")
    return None


async def void_stale_holds(deps: Dependencies, session: AsyncSession, before_period: str, limit: int = 500) -> int:
    """Holds of months before ``before_period`` that were never posted are voided (a hold's timeout)."""
    voided = 0
    for hold in await hold_repository.open_holds_before(session, before_period, limit):
        enrolment = await enrolment_repository.get_enrolment(session, hold.enrolment_id)
        assert enrolment is not None
        voucher = await voucher_repository.get_voucher(session, enrolment.voucher_id, lock=True)
        assert voucher is not None
        await _void(deps, session, hold, enrolment, voucher)
        if voucher.status == "ended":
            await _return_unused(deps, session, voucher, f"after:void:{hold.transfer_id}")
        voided += 1
    return voided
