"""The configurable rules of payments (settings: QOSYM_BUDGET_THRESHOLDS_PERCENT, QOSYM_SCHOOL_YEAR_END_MONTH,
QOSYM_HOLD_TIMEOUT_MONTHS)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    thresholds_percent: tuple[int, ...] = (50, 75, 90, 100)
    school_year_end_month: int = 5
    hold_timeout_months: int = 3
