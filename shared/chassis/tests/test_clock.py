from datetime import UTC, datetime, timedelta

import pytest

from qosym_chassis.clock import Clock, ClockShiftRefused
from qosym_chassis.settings import ServiceSettings

pytestmark = pytest.mark.unit


def settings(**values: object) -> ServiceSettings:
    return ServiceSettings(database_url="postgresql://x@127.0.0.1/x", **values)  # type: ignore[arg-type]


def test_the_real_clock_is_utc_now() -> None:
    before = datetime.now(UTC)
    now = Clock.from_settings(settings()).now()

    assert before <= now <= datetime.now(UTC)
    assert now.tzinfo is UTC


def test_a_development_shift_moves_now_and_today() -> None:
    clock = Clock.from_settings(settings(dev_mode=True, clock_offset_s=40 * 86400))

    assert clock.now() - datetime.now(UTC) > timedelta(days=39, hours=23)
    assert clock.today() == clock.now().date()


def test_a_shift_outside_development_is_refused() -> None:
    with pytest.raises(ClockShiftRefused):
        Clock.from_settings(settings(clock_offset_s=3600))
