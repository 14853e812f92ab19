"""Synthetic test people: valid IINs that belong to nobody, random so runs against kept data never collide."""

from __future__ import annotations

import random
from datetime import date

from registry.domain.iin import check_digit

_random = random.SystemRandom()
_issued: set[str] = set()


def synthetic_iin(born: date, sex: str = "F") -> str:
    """A valid IIN for a child born in 2000-2099 (century digit 5 or 6), unique within a test run."""
    century_sex = "6" if sex == "F" else "5"
    while True:
        first11 = f"{born:%y%m%d}{century_sex}{_random.randrange(10000):04d}"
        digit = check_digit(first11)
        if digit is not None and first11 not in _issued:
            _issued.add(first11)
            return first11 + str(digit)
