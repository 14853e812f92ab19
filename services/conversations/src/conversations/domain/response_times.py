"""How long a provider takes to answer: from a guardian's message to the provider's first reply after it.

A guardian who writes three messages before an answer waits from the first of them; a reply that follows only
the provider's own messages answers nothing. Unanswered turns are counted, not timed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Posted:
    thread_key: str
    author_side: str
    posted_at: datetime


@dataclass(frozen=True)
class Waits:
    answered_s: list[float]
    unanswered: int


def waits(messages: Iterable[Posted]) -> Waits:
    """The waits of every guardian turn in the messages (ordered by thread, then time)."""
    answered: list[float] = []
    unanswered = 0
    waiting_since: dict[str, datetime] = {}
    for m in messages:
        if m.author_side == "guardian":
            waiting_since.setdefault(m.thread_key, m.posted_at)
        elif m.author_side == "provider_staff" and m.thread_key in waiting_since:
            answered.append((m.posted_at - waiting_since.pop(m.thread_key)).total_seconds())
    unanswered = len(waiting_since)
    return Waits(answered_s=answered, unanswered=unanswered)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..1) by linear interpolation between closest ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
