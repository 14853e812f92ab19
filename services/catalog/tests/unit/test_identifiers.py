from datetime import date

import pytest

from catalog.domain.identifiers import InvalidIdentifier, parse_bic, parse_bin, parse_iin, parse_kz_iban
from qosym_chassis.iin import check_digit

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("value", ["080540014021", "120340012345", "990140055558", "150650000015", "0805 4001 4021"])
def test_valid_bins(value: str) -> None:
    assert parse_bin(value) == value.replace(" ", "")


def test_a_bin_whose_check_digit_needs_the_second_pass() -> None:
    assert check_digit("08054000020") == 4  # pass 1 gives 10
    assert parse_bin("080540000204") == "080540000204"


def test_a_prefix_never_issued_is_refused_whatever_the_last_digit() -> None:
    assert check_digit("08054000023") is None
    for last in "0123456789":
        with pytest.raises(InvalidIdentifier) as err:
            parse_bin("08054000023" + last)
        assert err.value.code == "check_digit"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("080540014022", "check_digit"),
        ("08054001402", "format"),
        ("0805400140211", "format"),
        ("08054001402a", "format"),
        ("０８０５４００１４０２１", "format"),  # full-width digits are not ASCII
        ("", "format"),
    ],
)
def test_invalid_bins(value: str, code: str) -> None:
    with pytest.raises(InvalidIdentifier) as err:
        parse_bin(value)
    assert (err.value.field, err.value.code) == ("bin", code)


def test_an_iin_is_not_a_bin() -> None:
    iin = "900101300017"  # valid IIN, 5th digit 0
    assert parse_iin(iin, today=date(2026, 12, 1)) == iin
    with pytest.raises(InvalidIdentifier) as err:
        parse_bin(iin)
    assert err.value.code == "entity_type"


@pytest.mark.parametrize("value", ["KZ86125KZT5004100100", "kz86 125K ZT50 0410 0100", "KZ64722ABCD1234EFGH5"])
def test_valid_kz_ibans(value: str) -> None:
    assert parse_kz_iban(value) == value.replace(" ", "").upper()


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("KZ87125KZT5004100100", "check_digit"),
        ("KZ86125KZT5004100101", "check_digit"),
        ("KZ86125KZT500410010", "format"),
        ("KZ86125KZT50041001000", "format"),
        ("DE89370400440532013000", "format"),
        ("KZ8A125KZT5004100100", "format"),
        ("KZ86125KZT50041001_0", "format"),
        ("KZ64ABCD1234EFGH5678", "format"),  # mod-97 holds, but a KZ IBAN's bank code is 3 digits
    ],
)
def test_invalid_kz_ibans(value: str, code: str) -> None:
    with pytest.raises(InvalidIdentifier) as err:
        parse_kz_iban(value)
    assert (err.value.field, err.value.code) == ("iban", code)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("901330500018", "iin_birth_date"),  # month 13
        ("800229500015", "iin_birth_date"),  # century digit 5 = 2080: a birth date in the future
        ("080540014021", "iin_century"),  # a BIN: 7th digit 0 (and "day" 40)
    ],
)
def test_staff_iins_are_refused_as_the_registry_refuses_them(value: str, code: str) -> None:
    with pytest.raises(InvalidIdentifier) as err:
        parse_iin(value, today=date(2026, 12, 1))
    assert (err.value.field, err.value.code) == ("iin", code)


@pytest.mark.parametrize(
    ("value", "stored"), [("HSBKKZKX", "HSBKKZKX"), ("casp kz ka", "CASPKZKA"), ("HSBKKZKXXXX",) * 2]
)
def test_valid_bics_are_stored_compact(value: str, stored: str) -> None:
    assert parse_bic(value, field="bank.bik") == stored


@pytest.mark.parametrize("value", ["HSBKKZK", "HSBKKZKXX", "HSBKQQKX", "HSBK1ZKX", ""])
def test_invalid_bics_name_the_field(value: str) -> None:
    with pytest.raises(InvalidIdentifier) as err:
        parse_bic(value, field="bank.bik")
    assert (err.value.field, err.value.code) == ("bank.bik", "format")
