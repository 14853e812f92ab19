"""A batch of payable months planned at once: the transfers that one ``on_payable_month`` per event, in the batch's
order, would have written, computed from the balances read under the batch's locks.

Pure: it reads no database. The caller locks the union of the batch's accounts (vouchers, payables, the round
budgets of finished vouchers) in ascending id order, reads their available balances and each month's state, and
hands them here; the plan is then written in one set-based call (``ledger_transfer_many``). Within the batch, each
month sees what the months before it did to its voucher (a second month of the same voucher holds from what the
first left), and a month met twice is posted once (the second is the "same month again" of the per-event rule).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from uuid import UUID

from payments.domain.accrual import accrual_amount, hold_amount
from payments.domain.aggregates import Enrolment, Hold, Month, Voucher
from payments.domain.ledger import Transfer, TransferKind


@dataclass(frozen=True)
class PayableMonth:
    """One event's month (AttendanceConfirmed or DisputeResolved), with the enrolment, its voucher and the month's
    state as read under the batch's locks (before any month of the batch is planned)."""

    event_id: UUID
    enrolment: Enrolment
    voucher: Voucher
    period: str
    payable_sessions: int
    planned_sessions: int
    month: Month


@dataclass(frozen=True)
class PlannedMonth:
    """What posting one month writes: its hold (made on demand when ``new_hold``), the accrued amount and id, and
    its transfers in order (hold, post, accrual, the unused balance returned for a finished voucher)."""

    request: PayableMonth
    hold: Hold | None
    new_hold: bool
    accrual_id: UUID
    amount_tiyn: int
    transfers: tuple[Transfer, ...]


@dataclass
class MonthPlan:
    months: list[PlannedMonth] = field(default_factory=list)
    already_posted: list[PayableMonth] = field(default_factory=list)  # accrued before, or earlier in the batch

    @property
    def transfers(self) -> list[Transfer]:
        return [t for m in self.months for t in m.transfers]


def accounts_of(months: Iterable[PayableMonth]) -> set[str]:
    """The accounts a batch of months may touch: each funded (or finished) voucher's account and its provider's
    payable account, and the round budget of a finished voucher (its unused balance goes back there)."""
    codes: set[str] = set()
    for m in months:
        if m.voucher.status == "refused":
            continue
        codes.update((m.voucher.account, m.enrolment.payable_account))
        if m.voucher.status == "ended":
            codes.add(m.voucher.budget_account)
    return codes


def plan_months(months: Iterable[PayableMonth], available: Mapping[str, int], new_id: Callable[[], UUID]) -> MonthPlan:
    """The batch's transfers in order, from ``available`` (each account's balance - pending debits under lock)."""
    left = dict(available)
    seen: set[tuple[UUID, str]] = set()
    plan = MonthPlan()
    for m in months:
        key = (m.enrolment.enrolment_id, m.period)
        if m.month.accrued or key in seen:
            plan.already_posted.append(m)
            continue
        seen.add(key)
        enrolment, voucher = m.enrolment, m.voucher
        transfers: list[Transfer] = []
        hold, new_hold = m.month.open_hold, False
        if hold is None and voucher.status != "refused":
            held = hold_amount(enrolment.price_per_month_tiyn, voucher.monthly_value_tiyn, left[voucher.account])
            if held > 0:
                hold_id = new_id()
                hold = Hold(hold_id, enrolment.enrolment_id, m.period, m.month.next_hold_seq, held, "open")
                new_hold = True
                transfers.append(
                    Transfer(
                        hold_id,
                        f"hold:{enrolment.enrolment_id}:{m.period}:{m.month.next_hold_seq}",
                        TransferKind.HOLD,
                        voucher.account,
                        enrolment.payable_account,
                        held,
                    )
                )
                left[voucher.account] -= held
        amount = accrual_amount(
            enrolment.price_per_month_tiyn, m.payable_sessions, m.planned_sessions, voucher.monthly_value_tiyn
        )
        amount = min(amount, hold.amount_tiyn if hold else 0)
        accrual_id = new_id()
        if hold is not None:
            transfers.append(
                Transfer(
                    new_id(),
                    f"post:{hold.transfer_id}",
                    TransferKind.POST,
                    enrolment.payable_account,
                    voucher.account,
                    hold.amount_tiyn,
                    pending_id=hold.transfer_id,
                )
            )
            left[voucher.account] += hold.amount_tiyn
            if amount > 0:
                transfers.append(
                    Transfer(
                        accrual_id,
                        f"accrual:{enrolment.enrolment_id}:{m.period}",
                        TransferKind.ACCRUAL,
                        voucher.account,
                        enrolment.payable_account,
                        amount,
                        pending_id=hold.transfer_id,
                    )
                )
                left[voucher.account] -= amount
        if voucher.status == "ended" and left[voucher.account] > 0:
            unused = left[voucher.account]
            transfers.append(
                Transfer(
                    new_id(),
                    f"return:{voucher.voucher_id}:after:{accrual_id}",
                    TransferKind.RETURN,
                    voucher.account,
                    voucher.budget_account,
                    unused,
                )
            )
            left[voucher.account] = 0
            left[voucher.budget_account] = left.get(voucher.budget_account, 0) + unused
        plan.months.append(PlannedMonth(m, hold, new_hold, accrual_id, amount, tuple(transfers)))
    return plan
