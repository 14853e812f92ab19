from datetime import date

import pytest

from qosym_chassis.iin import InvalidIin, check_digit, parse_iin

pytestmark = pytest.mark.unit
TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("iin", "born", "sex"),
    [
        ("061211600012", date(2006, 12, 11), "F"),  # needs the second pass
        ("180905600123", date(2018, 9, 5), "F"),
        ("900101300017", date(1990, 1, 1), "M"),
    ],
)
def test_valid_iins_give_birth_date_and_sex(iin: str, born: date, sex: str) -> None:
    parsed = parse_iin(iin, today=TODAY)
    assert (parsed.birth_date, parsed.sex) == (born, sex)


def test_prefix_whose_second_pass_is_ten_is_never_issued() -> None:
    assert check_digit("15030550012") is None
    with pytest.raises(InvalidIin) as error:
        parse_iin("150305500120", today=TODAY)
    assert error.value.code == "iin_never_issued"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("18090560012", "iin_format"),  # 11 digits
        ("1809056001234", "iin_format"),  # 13 digits
        ("18090560012a", "iin_format"),
        ("180905 600123", "iin_format"),  # inner space
        ("١٨٠٩٠٥٦٠٠١٢٣", "iin_format"),  # Arabic-Indic digits
        ("１８０９０５６００１２３", "iin_format"),  # full-width digits
        ("180905000123", "iin_century"),
        ("180905700123", "iin_century"),
        ("181305600123", "iin_birth_date"),  # month 13
        ("180230600123", "iin_birth_date"),  # 30 February
        ("180905600124", "iin_checksum"),
        ("301231600123", "iin_birth_date"),  # 2030: in the future
    ],
)
def test_invalid_iins_are_refused_with_a_distinct_code(raw: str, code: str) -> None:
    with pytest.raises(InvalidIin) as error:
        parse_iin(raw, today=TODAY)
    assert error.value.code == code


def test_leap_days() -> None:
    assert check_digit("00022950001") is not None
    with pytest.raises(InvalidIin):
        parse_iin("000229300010", today=TODAY)  # 1900 was not a leap year
