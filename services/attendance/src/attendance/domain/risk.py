"""Thresholds of the risk rules (each rule is explained in the service README; the queries are in adapters)."""

from __future__ import annotations

from dataclasses import dataclass

RULES = (
    "coach_double_booked",
    "facility_over_capacity",
    "closure_day_attendance",
    "identical_patterns",
    "guardian_never_confirms",
    "enrolled_in_two_regions",
    "drop_after_inspection_notice",
)


@dataclass(frozen=True)
class RiskThresholds:
    identical_months: int = 3  # a whole group marked identically, session by session, this many months in a row
    identical_min_children: int = 5  # ... in a group of at least this many children
    silent_months: int = 2  # no guardian answered a child's months this many months in a row
    inspection_baseline_days: int = 60  # attendance before an announced inspection, over this many days
    inspection_after_days: int = 30  # compared with this many days after it
    inspection_min_sessions: int = 20  # on both sides, at least this many marked sessions
    inspection_drop_percent: int = 30  # the share attended fell by at least this percentage of what it was
