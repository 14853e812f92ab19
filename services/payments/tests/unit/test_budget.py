import pytest

from payments.domain.budget import InvalidTerms, RegionBudget, max_vouchers_by_direction, voucher_cost_tiyn

pytestmark = pytest.mark.unit

ASTANA_VALUES = {"sports": 1_500_000, "creativity": 1_200_000, "intellectual": 1_200_000}


def test_a_voucher_costs_its_monthly_value_times_its_months() -> None:
    assert voucher_cost_tiyn(1_500_000, 9) == 13_500_000


def test_the_budget_funds_whole_vouchers_per_direction() -> None:
    result = max_vouchers_by_direction(250_000_000_000, ASTANA_VALUES, 9)

    assert result == {"creativity": 23_148, "intellectual": 23_148, "sports": 18_518}


def test_a_budget_one_tiyn_short_of_a_voucher_funds_one_fewer() -> None:
    assert max_vouchers_by_direction(2 * 13_500_000 - 1, {"sports": 1_500_000}, 9) == {"sports": 1}
    assert max_vouchers_by_direction(2 * 13_500_000, {"sports": 1_500_000}, 9) == {"sports": 2}


def test_arithmetic_is_exact_beyond_float_precision() -> None:
    budget = 10**18 + 1
    assert max_vouchers_by_direction(budget, {"sports": 1}, 1) == {"sports": budget}
    assert all(isinstance(v, int) for v in max_vouchers_by_direction(budget, ASTANA_VALUES, 9).values())


def test_an_empty_budget_funds_nothing() -> None:
    assert max_vouchers_by_direction(0, ASTANA_VALUES, 9) == dict.fromkeys(sorted(ASTANA_VALUES), 0)


@pytest.mark.parametrize(
    ("budget", "values", "months"),
    [
        (-1, {"sports": 1}, 1),
        (100, {"sports": 0}, 1),
        (100, {"sports": 1}, 0),
        (100, {"sports": 1.5}, 1),
        (100.0, {"sports": 1}, 1),
        (100, {"sports": True}, 1),
    ],
)
def test_terms_that_are_not_positive_integer_tiyn_are_refused(budget: object, values: object, months: int) -> None:
    with pytest.raises(InvalidTerms):
        max_vouchers_by_direction(budget, values, months)  # type: ignore[arg-type]


def test_a_region_budget_refuses_invalid_terms_on_creation() -> None:
    with pytest.raises(InvalidTerms):
        RegionBudget(code="astana", revision=1, budget_tiyn=100, voucher_monthly_value_tiyn={"x": 0}, voucher_months=9)


def test_a_region_budget_reports_its_vouchers() -> None:
    budget = RegionBudget("astana", 3, 27_000_000, {"sports": 1_500_000}, 9)

    assert budget.max_vouchers_by_direction() == {"sports": 2}
