from datetime import date, time

import pytest

from catalog.domain.programmes import (
    RuleBroken,
    Slot,
    age_on,
    check_age_band,
    check_capacity,
    check_schedule,
    holds_seat,
    in_age_band,
    provider_move,
    schedules_clash,
    within_decline_window,
)

pytestmark = pytest.mark.unit


def slot(day: int, start: str, end: str) -> Slot:
    return Slot(day, time.fromisoformat(start), time.fromisoformat(end))


def test_sessions_overlap_only_on_the_same_day_and_time() -> None:
    assert slot(1, "16:00", "17:30").overlaps(slot(1, "17:00", "18:00"))
    assert not slot(1, "16:00", "17:00").overlaps(slot(1, "17:00", "18:00"))  # back to back is fine
    assert not slot(1, "16:00", "17:30").overlaps(slot(2, "16:00", "17:30"))
    assert slot(3, "10:00", "12:00").overlaps(slot(3, "10:30", "11:00"))  # contained


def test_a_coach_cannot_be_in_two_programmes_at_once() -> None:
    assert schedules_clash([slot(1, "16:00", "17:00"), slot(3, "16:00", "17:00")], [slot(3, "16:30", "18:00")])
    assert not schedules_clash([slot(1, "16:00", "17:00")], [slot(1, "17:00", "18:00"), slot(2, "16:00", "17:00")])


def test_a_schedule_needs_sessions_that_end_after_they_start_and_do_not_overlap() -> None:
    check_schedule([slot(1, "16:00", "17:00"), slot(3, "16:00", "17:00")])
    with pytest.raises(RuleBroken) as empty:
        check_schedule([])
    assert empty.value.field == "schedule"
    with pytest.raises(RuleBroken) as backwards:
        check_schedule([slot(1, "17:00", "16:00")])
    assert backwards.value.field == "schedule.0.end"
    with pytest.raises(RuleBroken) as clash:
        check_schedule([slot(1, "16:00", "17:00"), slot(1, "16:30", "17:30")])
    assert clash.value.field == "schedule.1"


def test_age_band_and_ages() -> None:
    check_age_band(6, 6)
    with pytest.raises(RuleBroken):
        check_age_band(10, 6)
    assert age_on(date(2018, 9, 5), date(2026, 9, 4)) == 7
    assert age_on(date(2018, 9, 5), date(2026, 9, 5)) == 8
    assert in_age_band(date(2018, 9, 5), date(2026, 11, 23), 6, 8)
    assert not in_age_band(date(2018, 9, 5), date(2026, 11, 23), 10, 14)


def test_capacity_never_below_the_reserved_seats() -> None:
    check_capacity(5, 5)
    check_capacity(6, 0)
    with pytest.raises(RuleBroken) as err:
        check_capacity(4, 5)
    assert (err.value.field, err.value.code) == ("capacity", "below_reserved")


def test_only_requested_and_confirmed_enrolments_hold_a_seat() -> None:
    assert holds_seat("requested") and holds_seat("confirmed")
    assert not holds_seat("rejected") and not holds_seat("ended")


def test_decline_window() -> None:
    assert within_decline_window(0.5, 14)
    assert not within_decline_window(14.01, 14)


@pytest.mark.parametrize(
    ("status", "action", "result"),
    [
        ("pending", "verify", "verified"),
        ("pending", "reject", "rejected"),
        ("verified", "suspend", "suspended"),
        ("suspended", "verify", "verified"),
    ],
)
def test_provider_moves(status: str, action: str, result: str) -> None:
    assert provider_move(status, action) == result


@pytest.mark.parametrize(("status", "action"), [("pending", "suspend"), ("rejected", "verify"), ("verified", "verify")])
def test_provider_moves_that_are_refused(status: str, action: str) -> None:
    with pytest.raises(RuleBroken):
        provider_move(status, action)
