"""Planning a batch of payable months (what one posting per event in order would write, checked against the
ledger model, the executable specification of the ledger's rules) and a batch of voucher awards."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payments.domain.accrual import accrual_amount
from payments.domain.aggregates import Enrolment, Hold, Month, Round, Voucher
from payments.domain.funding_batch import Award, plan_fundings, thresholds_crossed
from payments.domain.ledger import AccountKind, LedgerModel, Transfer, TransferKind
from payments.domain.month_batch import PayableMonth, accounts_of, plan_months

pytestmark = pytest.mark.unit

MONTHLY = 1_500_000


def voucher(status: str = "funded", monthly: int = MONTHLY) -> Voucher:
    return Voucher(uuid4(), uuid4(), "astana", uuid4(), monthly, 9, date(2027, 5, 31), monthly * 9, status)


def enrolment(v: Voucher, provider: UUID, price: int = 1_200_000) -> Enrolment:
    return Enrolment(uuid4(), v.voucher_id, provider, v.child_id, uuid4(), "astana", price, 9, "active")


def month(
    e: Enrolment,
    v: Voucher,
    period: str = "2026-12",
    payable: int = 7,
    hold: Hold | None = None,
    accrued: bool = False,
    seq: int = 1,
) -> PayableMonth:
    return PayableMonth(uuid4(), e, v, period, payable, 9, Month(accrued, hold, seq))


def test_a_month_without_a_hold_is_held_posted_and_accrued_in_that_order() -> None:
    v = voucher()
    e = enrolment(v, uuid4())

    plan = plan_months([month(e, v, payable=7)], {v.account: 5_000_000, e.payable_account: 0}, uuid4)

    [planned] = plan.months
    assert [t.kind for t in planned.transfers] == [TransferKind.HOLD, TransferKind.POST, TransferKind.ACCRUAL]
    hold, post, accrual = planned.transfers
    assert hold.business_key == f"hold:{e.enrolment_id}:2026-12:1" and hold.amount == 1_200_000
    assert post.business_key == f"post:{hold.id}" and post.pending_id == hold.id
    assert (accrual.id, accrual.amount) == (planned.accrual_id, 1_200_000 * 7 // 9)
    assert accrual.business_key == f"accrual:{e.enrolment_id}:2026-12"
    assert planned.new_hold and planned.hold is not None and planned.hold.transfer_id == hold.id


def test_a_month_met_twice_or_already_accrued_is_posted_once() -> None:
    v = voucher()
    e = enrolment(v, uuid4())
    first, again, done = month(e, v), month(e, v), month(e, v, period="2026-11", accrued=True)

    plan = plan_months([first, again, done], {v.account: 5_000_000, e.payable_account: 0}, uuid4)

    assert [m.request for m in plan.months] == [first]
    assert plan.already_posted == [again, done]


def test_later_months_of_a_voucher_hold_from_what_the_earlier_ones_left() -> None:
    v = voucher()
    e = enrolment(v, uuid4(), price=1_000_000)
    months = [month(e, v, period=p, payable=9) for p in ("2026-12", "2027-01", "2027-02")]

    plan = plan_months(months, {v.account: 2_500_000, e.payable_account: 0}, uuid4)

    assert [m.amount_tiyn for m in plan.months] == [1_000_000, 1_000_000, 500_000]  # the third holds what is left


def test_a_refused_voucher_accrues_nothing_and_touches_no_account() -> None:
    v = voucher(status="refused")
    e = enrolment(v, uuid4())

    plan = plan_months([month(e, v)], {}, uuid4)

    assert [(m.amount_tiyn, m.transfers, m.hold) for m in plan.months] == [(0, (), None)]
    assert accounts_of([month(e, v)]) == set()


def test_a_finished_vouchers_unused_balance_goes_back_to_its_round() -> None:
    v = voucher(status="ended")
    e = enrolment(v, uuid4())
    held = Hold(uuid4(), e.enrolment_id, "2026-12", 1, 1_200_000, "open")

    plan = plan_months(
        [month(e, v, hold=held, payable=9)],
        {v.account: 300_000, e.payable_account: 0, v.budget_account: 0},
        uuid4,
    )

    [planned] = plan.months
    assert [t.kind for t in planned.transfers] == [TransferKind.POST, TransferKind.ACCRUAL, TransferKind.RETURN]
    back = planned.transfers[-1]
    assert (back.debit, back.credit, back.amount) == (v.account, v.budget_account, 300_000)
    assert back.business_key == f"return:{v.voucher_id}:after:{planned.accrual_id}"
    assert accounts_of([month(e, v, hold=held)]) == {v.account, e.payable_account, v.budget_account}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3),  # which voucher
            st.sampled_from(["2026-11", "2026-12", "2027-01"]),
            st.integers(0, 12),  # payable sessions
        ),
        min_size=1,
        max_size=12,
    ),
    st.lists(st.integers(0, 15_000_000), min_size=4, max_size=4),
    st.lists(st.integers(0, 2_000_000), min_size=4, max_size=4),
)
def test_the_plan_applies_to_the_ledger_model_and_never_overdraws(
    picks: list[tuple[int, str, int]], balances: list[int], prices: list[int]
) -> None:
    """Whatever the batch, its transfers apply in order under the ledger's rules (no overdraft, each hold released
    once, an accrual at most its hold), and each month accrues the rule's amount capped by what could be held."""
    provider = uuid4()
    vouchers = [voucher() for _ in range(4)]
    enrolments = [enrolment(v, provider, price=p) for v, p in zip(vouchers, prices, strict=True)]
    model = LedgerModel()
    model.open("treasury:astana", AccountKind.TREASURY)
    model.open(enrolments[0].payable_account, AccountKind.PROVIDER_PAYABLE)
    for v, amount in zip(vouchers, balances, strict=True):
        model.open(v.account, AccountKind.VOUCHER)
        if amount:
            model.apply(
                Transfer(uuid4(), f"fund:{v.voucher_id}", TransferKind.FUNDING, "treasury:astana", v.account, amount)
            )
    months = [month(enrolments[i], vouchers[i], period=p, payable=s) for i, p, s in picks]

    plan = plan_months(months, {code: a.available for code, a in model.accounts.items()}, uuid4)

    for t in plan.transfers:
        model.apply(t)
    assert model.violations() == []
    assert len(plan.months) == len({(m.enrolment.enrolment_id, m.period) for m in months})
    for planned in plan.months:
        r = planned.request
        rule = accrual_amount(r.enrolment.price_per_month_tiyn, r.payable_sessions, 9, MONTHLY)
        assert planned.amount_tiyn == min(rule, planned.hold.amount_tiyn if planned.hold else 0)


def test_awards_are_funded_while_the_budget_lasts_and_refused_whole_after() -> None:
    round_ = Round(uuid4(), "astana", 10 * MONTHLY * 9)
    awards = [Award(uuid4(), uuid4(), round_, 4 * MONTHLY * 9) for _ in range(3)]
    budget = round_.budget_account

    plan = plan_fundings(awards, {budget: round_.budget_tiyn}, {budget: round_.budget_tiyn}, (50, 75, 90), {}, uuid4)

    assert [f.transfer is not None for f in plan] == [True, True, False]
    assert [f.available_before for f in plan] == [10 * MONTHLY * 9, 6 * MONTHLY * 9, 2 * MONTHLY * 9]
    assert [f.thresholds_crossed for f in plan] == [(), (50, 75), ()]  # 40 %, then 80 %; a refusal crosses none
    funded = plan[0].transfer
    assert funded is not None and funded.business_key == f"fund:{awards[0].voucher_id}"
    assert (funded.debit, funded.credit, funded.amount) == (budget, awards[0].voucher_account, 4 * MONTHLY * 9)


def test_a_threshold_already_reached_is_not_crossed_again() -> None:
    assert thresholds_crossed(1000, 100, (50, 75, 90), {50, 75}) == [90]
    assert thresholds_crossed(1000, 600, (90, 50), set()) == []
    assert thresholds_crossed(0, 0, (50,), set()) == []
