from datetime import UTC, date, datetime, time

import pytest

from catalog.domain.attendance import (
    decision_at,
    first_attended,
    may_expire,
    next_month_start,
    period_of,
    shift_period,
    window_end_period,
    zone,
)

pytestmark = pytest.mark.unit
ALMATY = zone("Asia/Almaty")  # UTC+5


def test_a_period_is_the_local_month() -> None:
    assert period_of(datetime(2026, 11, 30, 19, 30, tzinfo=UTC), ALMATY) == "2026-12"  # 00:30 local on 1 Dec
    assert period_of(datetime(2026, 11, 30, 18, 59, tzinfo=UTC), ALMATY) == "2026-11"
    with pytest.raises(ValueError, match="aware"):
        period_of(datetime(2026, 11, 30), ALMATY)


def test_an_unknown_zone_falls_back_to_utc() -> None:
    assert str(zone(None)) == "UTC" and str(zone("Mars/Olympus")) == "UTC"


def test_next_month_start_is_local_midnight_and_wraps_the_year() -> None:
    assert next_month_start(datetime(2026, 12, 10, tzinfo=UTC), ALMATY) == datetime(2026, 12, 31, 19, tzinfo=UTC)
    assert shift_period("2026-11", 2) == "2027-01"
    assert shift_period("2027-01", -1) == "2026-12"


def test_the_first_attended_session_is_the_earliest_attended_one_in_local_time() -> None:
    marks = [
        (date(2026, 11, 12), time(16, 0), "attended"),
        (date(2026, 11, 5), time(16, 0), "absent"),
        (date(2026, 11, 10), None, "attended"),
        (date(2026, 11, 3), time(9, 0), "cancelled_by_provider"),
    ]
    assert first_attended(marks, ALMATY) == datetime(2026, 11, 9, 19, 0, tzinfo=UTC)
    assert first_attended([(date(2026, 11, 5), time(16), "absent")], ALMATY) is None


CONFIRMED = datetime(2026, 11, 10, 6, 0, tzinfo=UTC)  # window of 30 days ends on 10 December


def test_the_decision_waits_for_the_window_s_last_month_and_the_grace_days() -> None:
    assert window_end_period(CONFIRMED, ALMATY, 30) == "2026-12"
    assert decision_at(CONFIRMED, ALMATY, 30, 10) == datetime(2027, 1, 10, 19, 0, tzinfo=UTC)  # 11 Jan, 00:00 local


@pytest.mark.parametrize(
    ("now", "latest_reported", "expires"),
    [
        (datetime(2027, 2, 1, tzinfo=UTC), None, False),  # no timesheet at all: never decided
        (datetime(2027, 2, 1, tzinfo=UTC), "2026-11", False),  # December not reported yet
        (datetime(2027, 1, 5, tzinfo=UTC), "2026-12", False),  # reported, but before the decision day
        (datetime(2027, 1, 10, 19, 0, tzinfo=UTC), "2026-12", True),
        (datetime(2027, 3, 1, tzinfo=UTC), "2027-01", True),
    ],
)
def test_an_unattended_enrolment_expires_only_with_the_window_s_timesheet_in(now, latest_reported, expires) -> None:
    assert may_expire(CONFIRMED, ALMATY, now, 30, 10, latest_reported) is expires
