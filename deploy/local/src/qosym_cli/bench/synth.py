"""Synthetic data for the benchmarks, deterministic from ``--seed``: a region of its own, providers with valid BINs,
families with valid IINs (``qosym_chassis.iin.check_digit``, the same check the services apply)."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import yaml

from qosym_chassis.iin import check_digit
from qosym_cli.paths import regions_dir

DIRECTIONS = ("sports", "creativity", "intellectual")


def rng_for(seed: int, what: str) -> random.Random:
    """One generator per purpose, so adding a step to one benchmark never shifts another's data."""
    return random.Random(f"{seed}:{what}")


def region_code(seed: int, what: str) -> str:
    """A region code of letters only (the API's pattern), the same for the same seed and benchmark."""
    rng = rng_for(seed, f"region:{what}")
    return f"bench{what}" + "".join(rng.choice(string.ascii_lowercase) for _ in range(6))


def region(seed: int, what: str) -> dict[str, Any]:
    """A copy of the Astana demo region file under a code of its own (what ``qosym region apply`` sends)."""
    document: dict[str, Any] = yaml.safe_load((regions_dir() / "astana.yaml").read_text())
    code = region_code(seed, what)
    document.update(code=code, name={"en": code.title(), "kk": code.title(), "ru": code.title()})
    return document


def districts(document: dict[str, Any]) -> list[str]:
    return [str(d["code"]) for d in document["districts"]]


class Identities:
    """Valid, distinct IINs and BINs from one seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._issued: set[str] = set()

    def _twelve(self, first11: str) -> str | None:
        digit = check_digit(first11)
        if digit is None or first11 in self._issued:
            return None
        self._issued.add(first11)
        return first11 + str(digit)

    def iin(self, born: date, century_sex: str) -> str:
        while True:
            found = self._twelve(f"{born:%y%m%d}{century_sex}{self._rng.randrange(10000):04d}")
            if found:
                return found

    def adult(self) -> str:
        born = date(1975, 1, 1) + timedelta(days=self._rng.randrange(365 * 15))
        return self.iin(born, self._rng.choice("34"))

    def child(self, today: date) -> tuple[str, date]:
        """A child of 6 to 12 on ``today`` (every demo programme's and the region's age range)."""
        born = today - timedelta(days=365 * 6 + 30 + self._rng.randrange(365 * 6))
        return self.iin(born, self._rng.choice("56")), born

    def bin(self) -> str:
        """A resident legal entity's BIN (5th digit 4)."""
        while True:
            r = self._rng
            found = self._twelve(f"{r.randrange(100):02d}{r.randrange(1, 13):02d}4{r.randrange(1_000_000):06d}")
            if found:
                return found

    def phone(self) -> str:
        return f"+7701{self._rng.randrange(10_000_000):07d}"


@dataclass(frozen=True)
class PersonSpec:
    iin: str
    phone: str


@dataclass(frozen=True)
class ChildSpec:
    iin: str
    born: date
    district: str
    direction: str


def families(
    seed: int, what: str, children: int, district_codes: list[str], today: date
) -> list[tuple[PersonSpec, list[ChildSpec]]]:
    """``children`` children in families of one or two, spread over the districts and directions."""
    ids = Identities(rng_for(seed, f"people:{what}"))
    pick = rng_for(seed, f"choices:{what}")
    found: list[tuple[PersonSpec, list[ChildSpec]]] = []
    left = children
    while left > 0:
        size = min(left, pick.choice((1, 2)))
        district = pick.choice(district_codes)
        kids = []
        for _ in range(size):
            iin, born = ids.child(today)
            kids.append(ChildSpec(iin, born, district, pick.choice(DIRECTIONS)))
        found.append((PersonSpec(ids.adult(), ids.phone()), kids))
        left -= size
    return found
