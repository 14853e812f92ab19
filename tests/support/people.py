"""Synthetic test people: valid IINs that belong to nobody."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date

from registry.domain.iin import check_digit

_serials = itertools.count(1)


def synthetic_iin(born: date, sex: str = "F") -> str:
    """A valid IIN for a child born in 2000-2099 (century digit 5 or 6), unique within a test run."""
    century_sex = "6" if sex == "F" else "5"
    while True:
        first11 = f"{born:%y%m%d}{century_sex}{next(_serials) % 10000:04d}"
        digit = check_digit(first11)
        if digit is not None:
            return first11 + str(digit)


def children(count: int, born: date = date(2017, 3, 14)) -> Iterator[str]:
    for _ in range(count):
        yield synthetic_iin(born)
