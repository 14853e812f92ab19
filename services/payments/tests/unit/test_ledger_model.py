"""The ledger's rules as a state machine (Hypothesis): over any sequence of appropriations, fundings, holds,
posts, voids, returns, reversals and redeliveries, the invariants hold and nothing is overdrawn."""

from __future__ import annotations

from uuid import uuid4

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule

from payments.domain.ledger import AccountKind, LedgerError, LedgerModel, Transfer, TransferKind

pytestmark = pytest.mark.unit
amounts = st.integers(min_value=1, max_value=5_000)


class Ledger(RuleBasedStateMachine):
    vouchers = Bundle("vouchers")
    holds = Bundle("holds")
    posted = Bundle("posted")

    def __init__(self) -> None:
        super().__init__()
        self.model = LedgerModel()
        self.model.open("treasury:r", AccountKind.TREASURY)
        self.model.open("round_budget:1", AccountKind.ROUND_BUDGET)
        self.model.open("provider_payable:p", AccountKind.PROVIDER_PAYABLE)
        self.model.open("settlement:r", AccountKind.SETTLEMENT)
        self.applied: list[Transfer] = []
        self.refused = 0

    def _apply(self, transfer: Transfer) -> Transfer | None:
        before = {code: (a.balance, a.pending_debits, a.pending_credits) for code, a in self.model.accounts.items()}
        try:
            done = self.model.apply(transfer)
        except LedgerError:
            self.refused += 1
            after = {code: (a.balance, a.pending_debits, a.pending_credits) for code, a in self.model.accounts.items()}
            assert after == before  # a refused transfer changes nothing
            return None
        self.applied.append(done)
        return done

    @rule(amount=amounts)
    def appropriate(self, amount: int) -> None:
        self._apply(
            Transfer(uuid4(), f"approp:{uuid4()}", TransferKind.APPROPRIATION, "treasury:r", "round_budget:1", amount)
        )

    @rule(target=vouchers, amount=amounts)
    def fund(self, amount: int) -> str:
        code = f"voucher:{uuid4()}"
        self.model.open(code, AccountKind.VOUCHER)
        self._apply(Transfer(uuid4(), f"fund:{code}", TransferKind.FUNDING, "round_budget:1", code, amount))
        return code

    @rule(target=holds, voucher=vouchers, amount=amounts)
    def hold(self, voucher: str, amount: int) -> Transfer | None:
        return self._apply(
            Transfer(uuid4(), f"hold:{uuid4()}", TransferKind.HOLD, voucher, "provider_payable:p", amount)
        )

    @rule(hold=holds, share=st.fractions(min_value=0, max_value=1))
    def post(self, hold: Transfer | None, share) -> None:  # type: ignore[no-untyped-def]
        if hold is None:
            return
        release = self._apply(
            Transfer(
                uuid4(), f"post:{hold.id}", TransferKind.POST, hold.credit, hold.debit, hold.amount, pending_id=hold.id
            )
        )
        amount = int(hold.amount * share)
        if release is not None and amount > 0:
            self._apply(
                Transfer(
                    uuid4(),
                    f"accrual:{hold.id}",
                    TransferKind.ACCRUAL,
                    hold.debit,
                    hold.credit,
                    amount,
                    pending_id=hold.id,
                )
            )

    @rule(hold=holds)
    def void(self, hold: Transfer | None) -> None:
        if hold is not None:
            self._apply(
                Transfer(
                    uuid4(),
                    f"void:{hold.id}",
                    TransferKind.VOID,
                    hold.credit,
                    hold.debit,
                    hold.amount,
                    pending_id=hold.id,
                )
            )

    @rule(voucher=vouchers)
    def return_unused(self, voucher: str) -> None:
        available = self.model.accounts[voucher].available
        if available > 0:
            self._apply(
                Transfer(
                    uuid4(), f"return:{voucher}:{uuid4()}", TransferKind.RETURN, voucher, "round_budget:1", available
                )
            )

    @rule(amount=amounts)
    def pay_out(self, amount: int) -> None:
        self._apply(
            Transfer(uuid4(), f"payout:{uuid4()}", TransferKind.PAYOUT, "provider_payable:p", "settlement:r", amount)
        )

    @precondition(lambda self: bool(self.applied))
    @rule(data=st.data())
    def redeliver(self, data: st.DataObject) -> None:
        """The same transfer again, or the same business key with other content: nothing changes."""
        original = data.draw(st.sampled_from(self.applied))
        count = len(self.model.entries)
        assert self.model.apply(original) is original
        changed = Transfer(
            uuid4(),
            original.business_key,
            original.kind,
            original.debit,
            original.credit,
            original.amount + 1,
            original.pending_id,
            original.reverses_id,
        )
        assert self._apply(changed) is None
        assert len(self.model.entries) == count

    @precondition(lambda self: any(t.layer == "posted" and t.kind is not TransferKind.REVERSAL for t in self.applied))
    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        original = data.draw(
            st.sampled_from([t for t in self.applied if t.layer == "posted" and t.kind is not TransferKind.REVERSAL])
        )
        self._apply(
            Transfer(
                uuid4(),
                f"reverse:{original.id}",
                TransferKind.REVERSAL,
                original.credit,
                original.debit,
                original.amount,
                reverses_id=original.id,
            )
        )

    @invariant()
    def sound(self) -> None:
        assert self.model.violations() == []

    @invariant()
    def every_hold_resolves_at_most_once(self) -> None:
        releases = [
            t.pending_id for t in self.model.transfers.values() if t.kind in (TransferKind.POST, TransferKind.VOID)
        ]
        assert len(releases) == len(set(releases))


TestLedgerModel = Ledger.TestCase
TestLedgerModel.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
