"""Reviews and ratings: the pure rules (docs/architecture.md, "Layers").

- A guardian may review an enrolment of their child once, and only after attendance confirmed at least one month of
  it with at least one attended session (a rating cannot be bought: one per enrolment, none without attendance).
- The author may edit it for ``EDIT_WINDOW`` after writing it (the chassis clock decides).
- Ratings are shown only from ``MIN_VISIBLE_RATINGS`` visible ratings on: below that a programme shows none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

EDIT_WINDOW = timedelta(days=30)
MIN_VISIBLE_RATINGS = 5
STARS = (1, 2, 3, 4, 5)


def editable(created_at: datetime, now: datetime) -> bool:
    """The author may still change the review (within ``EDIT_WINDOW`` of writing it)."""
    return now < created_at + EDIT_WINDOW


@dataclass(frozen=True)
class Ratings:
    count: int
    mean: float
    distribution: dict[str, int]


def ratings(counts: Mapping[int, int]) -> Ratings | None:
    """Count, mean (two decimals) and distribution of the visible ratings; None below ``MIN_VISIBLE_RATINGS``."""
    total = sum(counts.get(star, 0) for star in STARS)
    if total < MIN_VISIBLE_RATINGS:
        return None
    mean = sum(star * counts.get(star, 0) for star in STARS) / total
    return Ratings(count=total, mean=round(mean, 2), distribution={str(s): counts.get(s, 0) for s in STARS})
