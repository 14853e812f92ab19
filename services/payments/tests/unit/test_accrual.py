"""The accrual rule, the hold rule and money text, as properties over all inputs (Hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.domain import periods
from payments.domain.accrual import accrual_amount, hold_amount, parse_tenge, tenge_text

pytestmark = pytest.mark.unit

tiyn = st.integers(min_value=0, max_value=10**12)
sessions = st.integers(min_value=0, max_value=200)


def test_seven_of_nine_sessions_floor_to_the_tiyn() -> None:
    assert accrual_amount(1_200_001, 7, 9, 1_500_000) == 933_334  # 933,334.11… → 933,334
    assert accrual_amount(1_200_000, 9, 9, 1_500_000) == 1_200_000
    assert accrual_amount(2_000_000, 9, 9, 1_500_000) == 1_500_000  # capped by the monthly value
    assert accrual_amount(1_200_000, 12, 9, 1_500_000) == 1_200_000  # never above 100 % of the month
    assert accrual_amount(1_200_000, 0, 9, 1_500_000) == 0
    assert accrual_amount(1_200_000, 5, 0, 1_500_000) == 0


@given(price=tiyn, payable=sessions, planned=sessions, monthly=tiyn)
def test_an_accrual_is_an_integer_between_zero_and_its_caps(
    price: int, payable: int, planned: int, monthly: int
) -> None:
    amount = accrual_amount(price, payable, planned, monthly)

    assert isinstance(amount, int)
    assert 0 <= amount <= min(price, monthly)
    if planned:
        assert amount * planned <= price * min(payable, planned)  # never more than the exact share
        exact_share = price * min(payable, planned) // planned
        assert amount == min(exact_share, monthly)  # floor, not rounding up


@given(price=tiyn, planned=st.integers(1, 200), monthly=tiyn, a=sessions, b=sessions)
def test_more_payable_sessions_never_pay_less(price: int, planned: int, monthly: int, a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert accrual_amount(price, low, planned, monthly) <= accrual_amount(price, high, planned, monthly)


@given(price=tiyn, monthly=tiyn, available=st.integers(-(10**6), 10**12))
def test_a_hold_never_exceeds_the_price_the_monthly_value_or_what_is_left(
    price: int, monthly: int, available: int
) -> None:
    held = hold_amount(price, monthly, available)
    assert 0 <= held <= min(price, monthly, max(available, 0))


@pytest.mark.parametrize("bad", [-1, 1.5, True, "12"])
def test_money_inputs_must_be_non_negative_integers(bad: object) -> None:
    with pytest.raises(ValueError):
        accrual_amount(bad, 1, 1, 1)  # type: ignore[arg-type]


@given(tiyn)
def test_tenge_text_round_trips(amount: int) -> None:
    assert parse_tenge(tenge_text(amount)) == amount


@pytest.mark.parametrize("text", ["", "-1", "+1", "1.005", "1,5", "١٢", "1e3", "abc", "1.2.3"])
def test_amount_text_that_is_not_tenge_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_tenge(text)


def test_periods_are_local_months_of_the_regions_zone() -> None:
    # 23:30 UTC on 31 October is 04:30 on 1 November in Almaty (UTC+5 since March 2024)
    assert periods.period_of(datetime(2026, 10, 31, 23, 30, tzinfo=UTC), "Asia/Almaty") == "2026-11"
    assert periods.period_of(datetime(2026, 10, 31, 18, 59, tzinfo=UTC), "Asia/Almaty") == "2026-10"
    assert periods.school_year_end("2026-11", 5) == "2027-05"
    assert periods.school_year_end("2027-03", 5) == "2027-05"
    assert periods.months_after("2026-11", "2027-05") == 6
    assert periods.months_after("2027-05", "2027-05") == 0
