"""Synthetic test people: valid IINs that belong to nobody, random so runs against kept data never collide."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date

import httpx

from qosym_chassis.iin import check_digit

_random = random.SystemRandom()
_issued: set[str] = set()


def synthetic_iin(born: date, sex: str = "F") -> str:
    """A valid IIN for a child born in 2000-2099 (century digit 5 or 6), unique within a test run."""
    return _iin(born, "6" if sex == "F" else "5")


def synthetic_adult_iin(born: date | None = None, sex: str = "M") -> str:
    """A valid IIN for an adult born in 1900-1999 (century digit 3 or 4; a random 1970s-80s date by default)."""
    born = born or date(_random.randrange(1970, 1990), _random.randrange(1, 13), _random.randrange(1, 29))
    if not 1900 <= born.year <= 1999:
        raise ValueError("synthetic adults are born in 1900-1999")
    return _iin(born, "4" if sex == "F" else "3")


def synthetic_phone() -> str:
    return f"+7701{_random.randrange(10_000_000):07d}"


def _iin(born: date, century_sex: str) -> str:
    while True:
        first11 = f"{born:%y%m%d}{century_sex}{_random.randrange(10000):04d}"
        digit = check_digit(first11)
        if digit is not None and first11 not in _issued:
            _issued.add(first11)
            return first11 + str(digit)


def register_person(registry: httpx.Client, token: Callable[..., str], iin: str | None = None) -> tuple[str, str]:
    """A registered adult person on the registry API (synthetic IIN, phone, consent): (person id, IIN).

    Registered at once by an operator (as at a service point); a person registering themselves gets a code by
    SMS instead (``POST /v1/people`` answers 202, ``/v1/people/confirm`` completes it: see the registry journey).
    """
    iin = iin or synthetic_adult_iin()
    response = registry.post(
        "/v1/people",
        json={"iin": iin, "phone": synthetic_phone(), "consent": {"data_processing": True}},
        headers={"Authorization": f"Bearer {token('operator', scope={'region': 'astana'})}"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"]), iin
