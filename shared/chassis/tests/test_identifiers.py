"""IBAN, BIC and BIN through python-stdnum and the IIN check digit (qosym_chassis.identifiers)."""

from __future__ import annotations

import pytest

from qosym_chassis.identifiers import (
    bic_problem,
    bin_problem,
    compact_bic,
    compact_bin,
    compact_iban,
    iban_problem,
    valid_bic,
    valid_bin,
    valid_iban,
)
from qosym_chassis.iin import check_digit

pytestmark = pytest.mark.unit


def kz_iban(bban16: str) -> str:
    """A KZ IBAN with its check digits computed here by ISO 13616 (independently of the library)."""
    numeric = "".join(str(int(c, 36)) for c in bban16.upper() + "KZ00")
    return f"KZ{98 - int(numeric) % 97:02d}{bban16.upper()}"


@pytest.mark.parametrize(
    "value",
    ["KZ86125KZT5004100100", "kz86 125K ZT50 0410 0100", kz_iban("125KZT5004100999"), "DE89370400440532013000"],
)
def test_valid_ibans(value: str) -> None:
    assert valid_iban(value) and iban_problem(value) is None
    assert compact_iban(value) == value.replace(" ", "").upper()


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("KZ87125KZT5004100100", "check_digit"),
        ("KZ86125KZT5004100101", "check_digit"),
        ("KZ86125KZT500410010", "format"),  # one character short for KZ
        ("KZ86125KZT50041001000", "format"),
        ("KZ8A125KZT5004100100", "format"),
        ("KZ86125KZT50041001_0", "format"),
        ("KZ86ABCD1234EFGH5678", "format"),  # KZ's BBAN starts with a 3-digit bank code
        (kz_iban("ABCD1234EFGH5678"), "format"),  # right check digits do not make the format right
        ("", "format"),
    ],
)
def test_invalid_ibans(value: str, code: str) -> None:
    assert not valid_iban(value)
    assert iban_problem(value) == code


def test_an_iban_of_another_country_is_refused_where_a_kazakh_one_is_needed() -> None:
    assert valid_iban("DE89370400440532013000")
    assert not valid_iban("DE89370400440532013000", country="KZ")
    assert iban_problem("DE89370400440532013000", country="KZ") == "format"
    assert valid_iban("KZ86125KZT5004100100", country="kz")


@pytest.mark.parametrize("value", ["KCJBKZKX", "kcjbkzkx", "HSBKKZKX", "HSBKKZKXXXX", "DEUT DE FF 500"])
def test_valid_bics(value: str) -> None:
    assert valid_bic(value) and bic_problem(value) is None
    assert compact_bic(value) == value.replace(" ", "").upper()


@pytest.mark.parametrize("value", ["KCJBKZK", "KCJBKZKXX", "KCJBQQKX", "1234KZKX", "KCJB_KZKX", ""])
def test_invalid_bics(value: str) -> None:
    assert not valid_bic(value)
    assert bic_problem(value) == "format"


@pytest.mark.parametrize("value", ["080540014021", "120340012345", "990140055558", "150650000015", "0805 4001 4021"])
def test_valid_bins(value: str) -> None:
    assert valid_bin(value) and bin_problem(value) is None
    assert compact_bin(value) == value.replace(" ", "")


def test_a_bin_whose_check_digit_needs_the_second_weight_pass() -> None:
    assert check_digit("08054000020") == 4  # the first pass gives 10
    assert valid_bin("080540000204")


def test_a_prefix_never_issued_is_refused_whatever_the_last_digit() -> None:
    assert check_digit("08054000023") is None
    assert all(bin_problem("08054000023" + last) == "check_digit" for last in "0123456789")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("080540014022", "check_digit"),
        ("08054001402", "format"),
        ("0805400140211", "format"),
        ("08054001402a", "format"),
        ("０８０５４００１４０２１", "format"),  # full-width digits are not ASCII
        ("", "format"),
        ("900101300017", "entity_type"),  # a valid IIN (5th digit 0): a person, not an entity
    ],
)
def test_invalid_bins(value: str, code: str) -> None:
    assert not valid_bin(value)
    assert bin_problem(value) == code
