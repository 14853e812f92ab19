"""Bank identifiers of a payment order: IBAN (ISO 13616) and BIC (ISO 9362), in their compact form only."""

from __future__ import annotations

import pytest

from payments.domain.payment_order import bic_is_valid, iban_is_valid


@pytest.mark.parametrize("iban", ["KZ86125KZT5004100100", "KZ05070KZT0000000001", "DE89370400440532013000"])
def test_an_iban_with_its_country_format_and_check_digits_is_valid(iban: str) -> None:
    assert iban_is_valid(iban)


@pytest.mark.parametrize(
    "iban",
    [
        None,
        "",
        "KZ86125KZT5004100101",  # a mistyped digit: mod 97 is not 1
        "KZ86125KZT500410010",  # a KZ IBAN is 20 characters
        "kz86125KZT5004100100",  # not compact: lower case
        "KZ86 125K ZT50 0410 0100",  # not compact: grouped
    ],
)
def test_anything_else_is_not_an_iban(iban: str | None) -> None:
    assert not iban_is_valid(iban)


def test_a_bic_has_8_or_11_characters_in_upper_case() -> None:
    assert bic_is_valid("HSBKKZKX") and bic_is_valid("DEUTDEFF500")
    assert not any(bic_is_valid(b) for b in (None, "", "HSBK", "HSBKKZKX1", "hsbkkzkx"))


def test_a_treasury_account_is_configured_with_valid_bank_identifiers_only() -> None:
    from pydantic import ValidationError

    from payments.config import DEMO_TREASURY, TreasuryAccount

    assert TreasuryAccount(name="t", iban=DEMO_TREASURY.iban, bic=DEMO_TREASURY.bic) == DEMO_TREASURY.model_copy(
        update={"name": "t"}
    )
    with pytest.raises(ValidationError, match="IBAN"):
        TreasuryAccount(name="t", iban="KZ05070KZT0000000002", bic="KKMFKZ2A")
    with pytest.raises(ValidationError, match="BIC"):
        TreasuryAccount(name="t", iban=DEMO_TREASURY.iban, bic="KKMF")
