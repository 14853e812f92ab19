from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from insights.domain.dimensions import add_months, age_band, child_key, month_of

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("birth_year", "year", "band"),
    [
        (2021, 2026, "0-5"),
        (2020, 2026, "6-9"),
        (2017, 2026, "6-9"),
        (2016, 2026, "10-13"),
        (2009, 2026, "14-17"),
        (2008, 2026, "18+"),
        (None, 2026, "unknown"),
        (2030, 2026, "unknown"),
    ],
)
def test_age_band_from_the_birth_year(birth_year, year, band) -> None:
    assert age_band(birth_year, year) == band


def test_the_child_key_is_salted_and_stable_and_not_the_id() -> None:
    child = uuid4()
    assert child_key("s", child) == child_key("s", child)
    assert child_key("s", child) != child_key("t", child)
    assert str(child) not in child_key("s", child)


def test_month_in_the_region_time_zone() -> None:
    late = datetime(2026, 9, 30, 20, 0, tzinfo=UTC)  # 01:00 on 1 October in Astana (UTC+5)
    assert month_of(late, "Asia/Almaty") == "2026-10"
    assert month_of(late, None) == "2026-09"


def test_add_months_clamps_the_day() -> None:
    assert add_months(datetime(2026, 1, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2026, 11, 15, tzinfo=UTC), 3) == datetime(2027, 2, 15, tzinfo=UTC)
