"""IINs as the registry reads them (qosym_chassis.iin): structure, birth date, sex, check digit; and what the
registry's use cases answer for a refused one (a field error naming ``iin`` with the parser's code)."""

from __future__ import annotations

from datetime import date

import pytest

from qosym_chassis.errors import FieldError
from qosym_chassis.iin import InvalidIin, age_on, check_digit, parse_iin
from registry.domain.model import RegionRules, check_registration
from registry.domain.people import check_adult

pytestmark = pytest.mark.unit
TODAY = date(2026, 11, 23)


def with_check_digit(first11: str) -> str:
    digit = check_digit(first11)
    assert digit is not None
    return first11 + str(digit)


def test_an_iin_gives_the_birth_date_and_sex() -> None:
    child = parse_iin("180905600123", today=TODAY)
    adult = parse_iin(" 900101300017 ", today=TODAY)
    assert (child.birth_date, child.sex) == (date(2018, 9, 5), "F")
    assert (adult.value, adult.birth_date, adult.sex) == ("900101300017", date(1990, 1, 1), "M")
    assert "9001013" not in repr(adult) and repr(adult).endswith("0017)")


@pytest.mark.parametrize("century_sex", [1, 2, 3, 4, 5, 6])
def test_the_seventh_digit_names_century_and_sex(century_sex: int) -> None:
    iin = parse_iin(with_check_digit(f"010203{century_sex}0001"), today=TODAY)
    century = {1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000}[century_sex]
    assert iin.birth_date == date(century + 1, 2, 3)
    assert iin.sex == ("M" if century_sex % 2 else "F")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("18090560012", "iin_format"),
        ("1809056001234", "iin_format"),
        ("18O905600123", "iin_format"),
        ("١٨٠٩٠٥٦٠٠١٢٣", "iin_format"),  # digits, but not ASCII
        ("180905700123", "iin_century"),
        ("180905000123", "iin_century"),
        ("183205600123", "iin_birth_date"),
        ("180230600123", "iin_birth_date"),
        ("180905600124", "iin_checksum"),
    ],
)
def test_a_malformed_iin_is_refused_with_its_reason(raw: str, code: str) -> None:
    with pytest.raises(InvalidIin) as refused:
        parse_iin(raw, today=TODAY)
    assert refused.value.code == code


def test_a_birth_date_after_today_is_refused() -> None:
    tomorrow = with_check_digit("26112460000")
    assert parse_iin(tomorrow, today=date(2026, 11, 24)).birth_date == date(2026, 11, 24)
    with pytest.raises(InvalidIin) as refused:
        parse_iin(tomorrow, today=TODAY)
    assert refused.value.code == "iin_birth_date"


def _pass(first11: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(first11, weights, strict=True)) % 11


W1, W2 = tuple(range(1, 12)), (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


def test_the_check_digit_takes_a_second_pass_on_a_remainder_of_ten() -> None:
    serials = [f"9001013{n:04d}" for n in range(10_000)]
    second_pass = next(f for f in serials if _pass(f, W1) == 10 and _pass(f, W2) != 10)
    assert parse_iin(second_pass + str(_pass(second_pass, W2)), today=TODAY).birth_date == date(1990, 1, 1)
    never = [f for f in serials if _pass(f, W1) == 10 and _pass(f, W2) == 10]
    assert never, "some serials of a day are never issued"
    with pytest.raises(InvalidIin) as refused:
        parse_iin(never[0] + "0", today=TODAY)
    assert refused.value.code == "iin_never_issued"


def test_age_counts_whole_years_up_to_the_birthday() -> None:
    born = date(2008, 11, 24)
    assert age_on(born, date(2026, 11, 23)) == 17
    assert age_on(born, date(2026, 11, 24)) == 18


def test_a_guardian_is_an_adult_on_the_day_of_the_eighteenth_birthday() -> None:
    turning = parse_iin(with_check_digit("08112450000"), today=TODAY)
    check_adult(turning, date(2026, 11, 24))
    with pytest.raises(Exception) as refused:
        check_adult(turning, TODAY)
    assert (
        getattr(refused.value, "field", None) == "iin" and getattr(refused.value, "code", None) == "guardian_not_adult"
    )


def test_a_childs_age_is_checked_against_the_iin_field() -> None:
    region = RegionRules("astana", frozenset({"yesil"}), child_age_min=6, child_age_max=18)
    with pytest.raises(Exception) as refused:
        check_registration(parse_iin("180905600123", today=TODAY), region, "yesil", date(2023, 1, 1))
    assert getattr(refused.value, "field", None) == "iin" and getattr(refused.value, "code", None) == "age_out_of_band"


async def test_an_invalid_iin_is_a_field_error_on_iin_wherever_it_escapes() -> None:
    async def register(raw: str) -> str:
        return parse_iin(raw, today=TODAY).value

    assert await register("180905600123") == "180905600123"
    with pytest.raises(FieldError) as refused:
        await register("180905600124")
    assert refused.value.status == 422
    assert refused.value.errors == [
        {"field": "iin", "message": "the IIN's check digit does not match", "type": "iin_checksum"}
    ]
    assert "180905600124" not in refused.value.detail
