"""The time a service acts on: the real UTC clock, optionally shifted in development.

Deadlines, periods and sweeps read ``Clock.now()`` instead of ``datetime.now`` so that an end-to-end test can
run a service "next month" (``QOSYM_CLOCK_OFFSET_S``) against a real stack. A shift outside development mode is
refused at start-up: production always runs on the real clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from qosym_chassis.settings import ServiceSettings


class ClockShiftRefused(RuntimeError):
    pass


@dataclass(frozen=True)
class Clock:
    offset: timedelta = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def today(self) -> date:
        """Today's date in UTC (periods and local dates are computed from ``now()`` with the region's zone)."""
        return self.now().date()

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> Clock:
        if settings.clock_offset_s and not settings.dev_mode:
            raise ClockShiftRefused("QOSYM_CLOCK_OFFSET_S is only honoured with QOSYM_DEV_MODE=true")
        return cls(offset=timedelta(seconds=settings.clock_offset_s))
