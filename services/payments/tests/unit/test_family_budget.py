"""The family budget's split and projection (domain/family_budget.py)."""

from __future__ import annotations

from dataclasses import replace
from uuid import uuid4

import pytest

from payments.domain.family_budget import EnrolmentTerms, Posted, enrolment_budget, family_budget, split

pytestmark = pytest.mark.unit

MONTHLY = 1_500_000


def terms(price: int, **kw: object) -> EnrolmentTerms:
    values: dict[str, object] = {
        "enrolment_id": uuid4(),
        "child_id": uuid4(),
        "programme_id": uuid4(),
        "provider_id": uuid4(),
        "voucher_id": uuid4(),
        "status": "active",
        "monthly_value_tiyn": MONTHLY,
        "price_per_month_tiyn": price,
        "first_period": "2026-09",
        "ended_period": None,
        "last_voucher_period": "2027-05",
    }
    values.update(kw)
    return EnrolmentTerms(**values)  # type: ignore[arg-type]  # the fields above, typed by EnrolmentTerms


def test_a_price_above_the_voucher_leaves_a_co_payment() -> None:
    s = split(2_000_000, MONTHLY)
    assert (s.covered_tiyn, s.co_payment_tiyn) == (MONTHLY, 500_000)


def test_a_price_below_the_voucher_is_covered_whole() -> None:
    s = split(1_200_000, MONTHLY)
    assert (s.covered_tiyn, s.co_payment_tiyn) == (1_200_000, 0)


def test_a_free_programme_costs_nothing_and_money_is_never_negative() -> None:
    assert split(0, MONTHLY).co_payment_tiyn == 0
    with pytest.raises(ValueError):
        split(-1, MONTHLY)


def test_the_projection_runs_from_this_month_to_the_vouchers_last_month() -> None:
    b = enrolment_budget(terms(2_000_000), "2026-11")
    assert b.projection.months == 7  # Nov … May
    assert b.projection.covered_tiyn == 7 * MONTHLY
    assert b.projection.co_payment_tiyn == 7 * 500_000
    assert b.projection.total_tiyn == 7 * 2_000_000


def test_history_is_the_past_months_with_what_the_ledger_accrued() -> None:
    posted = (Posted("2026-09", 1_000_000, 6, 9),)
    b = enrolment_budget(terms(1_200_000, posted=posted), "2026-11")
    assert [m.period for m in b.history] == ["2026-09", "2026-10"]
    assert (b.history[0].accrued_tiyn, b.history[0].payable_sessions, b.history[0].planned_sessions) == (
        1_000_000,
        6,
        9,
    )
    assert b.history[1].accrued_tiyn is None
    assert b.current is not None and b.current.period == "2026-11"
    assert b.current.split.covered_tiyn == 1_200_000


def test_an_ended_enrolment_projects_nothing_and_stops_its_months() -> None:
    b = enrolment_budget(terms(1_200_000, status="ended", ended_period="2026-10"), "2026-11")
    assert b.projection.months == 0
    assert b.current is None
    assert [m.period for m in b.history] == ["2026-09", "2026-10"]


def test_an_enrolment_starting_later_projects_from_its_first_month() -> None:
    b = enrolment_budget(terms(1_200_000, first_period="2027-01"), "2026-11")
    assert b.projection.months == 5  # Jan … May
    assert b.current is None and b.history == []


def test_the_familys_projection_sums_all_children() -> None:
    first = terms(2_000_000)
    second = terms(1_000_000)
    also_first = replace(terms(300_000, first_period="2027-03"), child_id=first.child_id)
    f = family_budget(uuid4(), "2026-11", [first, also_first, second])
    assert [c.child_id for c in f.children] == [first.child_id, second.child_id]
    assert len(f.children[0].enrolments) == 2
    assert f.projection.months == 7 + 3 + 7
    assert f.projection.covered_tiyn == 7 * MONTHLY + 3 * 300_000 + 7 * 1_000_000
    assert f.projection.co_payment_tiyn == 7 * 500_000
