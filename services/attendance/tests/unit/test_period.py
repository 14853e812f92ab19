from datetime import UTC, datetime, timedelta, timezone

import pytest

from attendance.domain.period import UnknownTimeZone, period_containing

pytestmark = pytest.mark.unit


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_the_first_local_second_of_april_in_almaty_is_april() -> None:
    period = period_containing(utc(2026, 3, 31, 19, 0, 0), "Asia/Almaty")

    assert period.name == "2026-04"
    assert period.starts_at == utc(2026, 3, 31, 19)
    assert period.ends_at == utc(2026, 4, 30, 19)


def test_the_last_local_second_of_march_in_almaty_is_still_march() -> None:
    period = period_containing(utc(2026, 3, 31, 18, 59, 59), "Asia/Almaty")

    assert period.name == "2026-03"
    assert period.starts_at == utc(2026, 2, 28, 19)
    assert period.ends_at == utc(2026, 3, 31, 19)


def test_almaty_was_utc_plus_six_until_march_2024() -> None:
    february = period_containing(utc(2024, 2, 15, 12), "Asia/Almaty")

    assert february.name == "2024-02"
    assert february.starts_at == utc(2024, 1, 31, 18)
    assert february.ends_at == utc(2024, 2, 29, 19)  # March 1 begins in the new offset, UTC+5


def test_almaty_is_utc_plus_five_from_march_2024() -> None:
    april = period_containing(utc(2024, 4, 10), "Asia/Almaty")

    assert april.name == "2024-04"
    assert april.starts_at == utc(2024, 3, 31, 19)


def test_the_month_before_the_offset_change_is_an_hour_longer() -> None:
    february = period_containing(utc(2024, 2, 10), "Asia/Almaty")
    march = period_containing(utc(2024, 3, 15), "Asia/Almaty")

    assert february.ends_at - february.starts_at == timedelta(days=29, hours=1)
    assert march.starts_at == february.ends_at
    assert march.ends_at - march.starts_at == timedelta(days=31)


def test_the_hour_repeated_at_the_change_still_belongs_to_february() -> None:
    assert period_containing(utc(2024, 2, 29, 18, 30), "Asia/Almaty").name == "2024-02"


def test_december_ends_at_the_next_january() -> None:
    december = period_containing(utc(2026, 12, 31, 12), "Asia/Almaty")

    assert december.name == "2026-12"
    assert december.ends_at == utc(2026, 12, 31, 19)
    assert period_containing(december.ends_at, "Asia/Almaty").name == "2027-01"


def test_an_instant_in_another_offset_is_the_same_instant() -> None:
    plus_three = timezone(timedelta(hours=3))

    assert period_containing(datetime(2026, 3, 31, 22, 0, tzinfo=plus_three), "Asia/Almaty").name == "2026-04"


def test_bounds_are_utc_and_contain_the_instant() -> None:
    instant = utc(2026, 11, 23, 17, 30)
    period = period_containing(instant, "Asia/Almaty")

    assert period.starts_at <= instant < period.ends_at
    assert period.starts_at.tzinfo is UTC
    assert period.ends_at.tzinfo is UTC


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        period_containing(datetime(2026, 1, 1), "Asia/Almaty")


def test_an_unknown_zone_is_refused() -> None:
    with pytest.raises(UnknownTimeZone):
        period_containing(utc(2026, 1, 1), "Mars/Olympus_Mons")
