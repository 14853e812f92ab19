from datetime import UTC, date, datetime, time

import pytest
from pydantic import ValidationError

from attendance.domain.rules import (
    DEFAULT_RULES,
    AttendanceRules,
    ClosureDay,
    Tally,
    payable_sessions,
    planned_sessions,
)
from attendance.domain.schedule import Slot, in_span, scheduled_sessions
from attendance.domain.timesheets import outcome_of, status_after_ruling

pytestmark = pytest.mark.unit
MON_WED = [Slot(1, time(16), time(17, 30)), Slot(3, time(16), time(17, 30))]


def tally(planned=8, in_span=8, attended=8, absent=0, cancelled=0) -> Tally:
    return Tally(planned=planned, in_span=in_span, attended=attended, absent=absent, cancelled=cancelled)


def test_by_default_only_attended_sessions_are_payable() -> None:
    assert payable_sessions(tally(attended=5, absent=2, cancelled=1), DEFAULT_RULES) == 5
    assert planned_sessions(tally(attended=5, absent=2, cancelled=1), DEFAULT_RULES) == 8


def test_a_month_without_any_attended_session_pays_nothing_even_if_absences_count() -> None:
    rules = AttendanceRules(absent_sessions_payable=True)
    assert payable_sessions(tally(attended=0, absent=8), rules) == 0
    assert payable_sessions(tally(attended=1, absent=7), rules) == 8


def test_a_minimum_share_of_the_sessions_while_enrolled() -> None:
    rules = AttendanceRules(min_attendance_percent=50)
    assert payable_sessions(tally(in_span=4, attended=2), rules) == 2  # joined mid-month: 2 of 4 is enough
    assert payable_sessions(tally(in_span=8, attended=3), rules) == 0


def test_provider_cancelled_sessions_by_policy() -> None:
    month = tally(attended=6, cancelled=2)
    assert payable_sessions(month, AttendanceRules(provider_cancelled="not_payable")) == 6
    assert planned_sessions(month, AttendanceRules(provider_cancelled="excluded_from_plan")) == 6
    assert payable_sessions(month, AttendanceRules(provider_cancelled="payable")) == 8


def test_never_more_than_planned() -> None:
    assert payable_sessions(tally(planned=8, attended=10), DEFAULT_RULES) == 8


def test_deadlines_are_local_ends_of_days_of_the_next_month() -> None:
    assert DEFAULT_RULES.submission_deadline("2026-10", "Asia/Almaty") == datetime(2026, 11, 3, 19, tzinfo=UTC)
    submitted = datetime(2026, 11, 2, tzinfo=UTC)
    assert DEFAULT_RULES.confirmation_deadline("2026-10", "Asia/Almaty", submitted, False) == datetime(
        2026, 11, 5, 19, tzinfo=UTC
    )
    late = datetime(2026, 11, 10, tzinfo=UTC)
    assert DEFAULT_RULES.confirmation_deadline("2026-12", "Asia/Almaty", late, True) == datetime(
        2027, 1, 5, 19, tzinfo=UTC
    )
    assert DEFAULT_RULES.confirmation_deadline("2026-10", "Asia/Almaty", late, True) == datetime(
        2026, 11, 13, tzinfo=UTC
    )


def test_closure_days_are_public_holidays_and_the_listed_days() -> None:
    rules = AttendanceRules(closure_days=[ClosureDay(date=date(2026, 10, 12), reason="quarantine")])
    assert rules.closures_in("2026-10") == {
        date(2026, 10, 12): "quarantine",
        date(2026, 10, 25): "public holiday: Republic Day",
        date(2026, 10, 26): "public holiday: Republic Day (observed)",
    }
    assert AttendanceRules(public_holidays=None).closures_in("2026-12") == {}


def test_rules_refuse_unknown_fields_and_strings_for_numbers() -> None:
    with pytest.raises(ValidationError):
        AttendanceRules.model_validate({"min_attended_sessions": "2"})
    with pytest.raises(ValidationError):
        AttendanceRules.model_validate({"pay_everything": True})


def test_the_schedule_of_a_month_in_the_regions_zone() -> None:
    closures = DEFAULT_RULES.closures_in("2026-10")
    sessions = scheduled_sessions("2026-10", MON_WED, "Asia/Almaty", closures)
    assert [s.day.day for s in sessions] == [5, 7, 12, 14, 19, 21, 28]
    assert sessions[0].starts_at == datetime(2026, 10, 5, 11, tzinfo=UTC)
    assert sessions[0].ends_at == datetime(2026, 10, 5, 12, 30, tzinfo=UTC)
    with_closures = scheduled_sessions("2026-10", MON_WED, "Asia/Almaty", closures, include_closures=True)
    assert [s.closure for s in with_closures if s.closure] == ["public holiday: Republic Day (observed)"]


def test_an_enrolment_span_is_inclusive_local_days() -> None:
    (first, *_rest) = scheduled_sessions("2026-10", MON_WED, "Asia/Almaty", {})
    assert in_span(first, date(2026, 10, 5), None)
    assert in_span(first, date(2026, 10, 1), date(2026, 10, 5))
    assert not in_span(first, date(2026, 10, 6), None)


def test_rulings_on_disputed_sessions() -> None:
    assert status_after_ruling("absent", "attended", "guardian_upheld") == "attended"
    assert status_after_ruling("attended", "not_held", "guardian_upheld") == "cancelled_by_provider"
    assert status_after_ruling("attended", "absent", "provider_upheld") == "attended"
    assert outcome_of(["guardian_upheld", "provider_upheld"]) == "partly_upheld"
    assert outcome_of(["provider_upheld"]) == "provider_upheld"
