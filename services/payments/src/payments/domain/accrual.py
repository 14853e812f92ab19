"""The money rules of a month: what is held at enrolment and what is posted when attendance is confirmed.

Integer tiyn only. The published rule (services/payments/README.md, "Accrual rule"):

- hold  = min(price per month, the voucher's monthly value, the voucher's available balance);
- payable sessions are capped at the planned sessions (a month is never paid above 100 %);
- accrual = min(floor(price × payable / planned), the voucher's monthly value, the amount held);
  floor rounds toward zero to the tiyn, so the platform never pays a fraction of a tiyn more than earned;
- planned = 0 or payable = 0 or price = 0 → 0.
"""

from __future__ import annotations


def _non_negative_int(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer")


def hold_amount(price_tiyn: int, monthly_value_tiyn: int, available_tiyn: int) -> int:
    """What a month's hold takes from the voucher: the price, never more than the monthly value or what is left."""
    for name, value in (("price", price_tiyn), ("monthly value", monthly_value_tiyn)):
        _non_negative_int(name, value)
    return max(0, min(price_tiyn, monthly_value_tiyn, available_tiyn))


def accrual_amount(price_tiyn: int, payable_sessions: int, planned_sessions: int, monthly_value_tiyn: int) -> int:
    """floor(price × payable / planned), payable capped at planned, capped by the voucher's monthly value."""
    for name, value in (
        ("price", price_tiyn),
        ("payable sessions", payable_sessions),
        ("planned sessions", planned_sessions),
        ("monthly value", monthly_value_tiyn),
    ):
        _non_negative_int(name, value)
    if planned_sessions == 0 or payable_sessions == 0 or price_tiyn == 0:
        return 0
    payable = min(payable_sessions, planned_sessions)
    return min(price_tiyn * payable // planned_sessions, monthly_value_tiyn)


def tenge_text(tiyn: int) -> str:
    """Integer tiyn as a decimal amount of tenge with two digits ("1234.05"), without floating point."""
    _non_negative_int("amount", tiyn)
    whole, fraction = divmod(tiyn, 100)
    return f"{whole}.{fraction:02d}"


def parse_tenge(text: str) -> int:
    """A decimal amount of tenge ("1234.5", "1234.05", "1234") as integer tiyn; more than 2 decimals is refused."""
    value = text.strip()
    if not value or value.startswith(("+", "-")):
        raise ValueError("an amount is a non-negative decimal number")
    whole, _, fraction = value.partition(".")
    if not whole.isascii() or not whole.isdigit() or (fraction and (not fraction.isascii() or not fraction.isdigit())):
        raise ValueError("an amount is a non-negative decimal number")
    if len(fraction) > 2:
        raise ValueError("an amount has at most two decimals (tiyn)")
    return int(whole) * 100 + int(fraction.ljust(2, "0") or "0")
