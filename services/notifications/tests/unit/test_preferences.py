from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from notifications.domain import messages as m
from notifications.domain.preferences import (
    Preferences,
    QuietHours,
    pick_language,
    quiet_until,
    validate_channels,
)

pytestmark = pytest.mark.unit
ALMATY = ZoneInfo("Asia/Almaty")  # UTC+5


def test_nothing_goes_out_without_an_address() -> None:
    assert Preferences().channels_for(m.VOUCHER_AWARDED) == []
    assert Preferences(email="a@example.kz").channels_for(m.VOUCHER_AWARDED) == ["email"]
    assert Preferences(email="a@example.kz", phone="+77011234567").channels_for(m.VOUCHER_AWARDED) == ["email", "sms"]


def test_sms_by_default_only_for_deadlines_and_vouchers() -> None:
    both = Preferences(email="a@example.kz", phone="+77011234567")

    assert both.channels_for(m.APPLICATION_RECEIVED) == ["email"]
    assert both.channels_for(m.ATTENDANCE_CONFIRM_REMINDER) == ["email", "sms"]


def test_a_choice_per_kind_beats_the_default_choice() -> None:
    prefs = Preferences(
        email="a@example.kz", phone="+77011234567", channels={"default": [], "enrolment_confirmed": ["sms"]}
    )

    assert prefs.channels_for(m.APPLICATION_RECEIVED) == []
    assert prefs.channels_for(m.ENROLMENT_CONFIRMED) == ["sms"]


def test_the_stand_ins_texts_never_leave_the_app() -> None:
    assert Preferences(email="a@example.kz", channels={"default": ["email"]}).channels_for(m.SMS) == []


@pytest.mark.parametrize(
    ("utc_now", "expected"),
    [
        (datetime(2026, 11, 26, 18, 0, tzinfo=UTC), datetime(2026, 11, 27, 2, 0, tzinfo=UTC)),  # 23:00 local
        (datetime(2026, 11, 26, 20, 30, tzinfo=UTC), datetime(2026, 11, 27, 2, 0, tzinfo=UTC)),  # 01:30 local
        (datetime(2026, 11, 26, 2, 0, tzinfo=UTC), None),  # 07:00 local: quiet hours are over
        (datetime(2026, 11, 26, 10, 0, tzinfo=UTC), None),  # 15:00 local
    ],
)
def test_quiet_hours_across_midnight_in_the_persons_zone(utc_now: datetime, expected: datetime | None) -> None:
    assert quiet_until(utc_now, ALMATY, QuietHours(time(22, 0), time(7, 0))) == expected


def test_quiet_hours_within_one_day() -> None:
    lunch = QuietHours(time(13, 0), time(14, 0))

    assert quiet_until(datetime(2026, 11, 26, 8, 30, tzinfo=UTC), ALMATY, lunch) == datetime(
        2026, 11, 26, 9, 0, tzinfo=UTC
    )
    assert quiet_until(datetime(2026, 11, 26, 9, 0, tzinfo=UTC), ALMATY, lunch) is None
    assert quiet_until(datetime(2026, 11, 26, 9, 0, tzinfo=UTC), ALMATY, QuietHours(time(9), time(9))) is None


def test_the_language_is_the_persons_choice_then_the_clients_then_the_deployments() -> None:
    assert pick_language("kk", "ru-RU,ru;q=0.9", "en") == "kk"
    assert pick_language(None, "de-DE, ru;q=0.8", "en") == "ru"
    assert pick_language(None, "de-DE", "ru") == "ru"
    assert pick_language(None, None, "en") == "en"


def test_channel_choices_name_known_kinds_and_external_channels_only() -> None:
    assert validate_channels({"default": ["email"], "voucher_awarded": ["sms"]}, m.KINDS) == []
    assert [f for f, _ in validate_channels({"voucher_won": ["email"]}, m.KINDS)] == ["channels.voucher_won"]
    assert [f for f, _ in validate_channels({"sms": ["email"]}, m.KINDS)] == ["channels.sms"]
    assert [f for f, _ in validate_channels({"default": ["pigeon"]}, m.KINDS)] == ["channels.default"]
