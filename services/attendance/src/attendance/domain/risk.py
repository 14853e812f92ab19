"""Thresholds of the risk rules (each rule is explained in the service README; the queries are in adapters)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from qosym_contracts.attendance import RiskRule

RULES: tuple[str, ...] = get_args(RiskRule)
"""Every risk rule, in the order the sweep runs them (the contract's ``RiskRule``)."""


@dataclass(frozen=True)
class RiskThresholds:
    identical_months: int = 3  # a whole group marked identically, session by session, this many months in a row
    identical_min_children: int = 5  # ... in a group of at least this many children
    silent_months: int = 2  # no guardian answered a child's months this many months in a row
    inspection_baseline_days: int = 60  # attendance before an announced inspection, over this many days
    inspection_after_days: int = 30  # compared with this many days after it
    inspection_min_sessions: int = 20  # on both sides, at least this many marked sessions
    inspection_drop_percent: int = 30  # the share attended fell by at least this percentage of what it was
