"""A region's budget and voucher terms as payments sees them. Money is integer tiyn, never float."""

from __future__ import annotations

from dataclasses import dataclass

from payments.domain.payment_order import Party, bic_is_valid, iban_is_valid


class InvalidTerms(ValueError):
    pass


@dataclass(frozen=True)
class RegionBudget:
    code: str
    revision: int
    budget_tiyn: int
    voucher_monthly_value_tiyn: dict[str, int]
    voucher_months: int
    timezone: str | None = None
    treasury: Party | None = None  # the region file's paying account; None: the settings' account applies

    def __post_init__(self) -> None:
        check_terms(self.budget_tiyn, self.voucher_monthly_value_tiyn, self.voucher_months)
        if self.treasury is not None and not (iban_is_valid(self.treasury.iban) and bic_is_valid(self.treasury.bic)):
            raise InvalidTerms(f"the treasury account of {self.code} has no valid IBAN and BIC")

    def max_vouchers_by_direction(self) -> dict[str, int]:
        return max_vouchers_by_direction(self.budget_tiyn, self.voucher_monthly_value_tiyn, self.voucher_months)


def check_terms(budget_tiyn: int, monthly_value_tiyn: dict[str, int], months: int) -> None:
    if isinstance(budget_tiyn, bool) or not isinstance(budget_tiyn, int) or budget_tiyn < 0:
        raise InvalidTerms("budget_tiyn must be a non-negative integer")
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise InvalidTerms("voucher_months must be a positive integer")
    for direction, value in monthly_value_tiyn.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidTerms(f"voucher monthly value for {direction!r} must be a positive integer of tiyn")


def voucher_cost_tiyn(monthly_value_tiyn: int, months: int) -> int:
    """What one voucher commits over its whole term."""
    return monthly_value_tiyn * months


def max_vouchers_by_direction(budget_tiyn: int, monthly_value_tiyn: dict[str, int], months: int) -> dict[str, int]:
    """How many vouchers of each direction the whole budget could fund if spent on that direction alone."""
    check_terms(budget_tiyn, monthly_value_tiyn, months)
    return {
        direction: budget_tiyn // voucher_cost_tiyn(value, months)
        for direction, value in sorted(monthly_value_tiyn.items())
    }
