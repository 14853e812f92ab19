"""Kazakh individual identification number (IIN): structure, birth date and check digit.

The one IIN validator of the platform: every service parses an IIN that enters it with `parse_iin`.

12 ASCII digits: YYMMDD birth date, a century/sex digit (1-6), a 4-digit serial, a check digit.
The check digit uses weights 1..11 mod 11; a remainder of 10 takes a second pass with weights
3..11,1,2; a second 10 means no IIN is ever issued with those first eleven digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from qosym_chassis.errors import FieldError

_ASCII_12_DIGITS = re.compile(r"[0-9]{12}")
_W1 = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_W2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
_CENTURY = {1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000}


class InvalidIin(FieldError, ValueError):
    """An IIN the platform refuses: a 422 naming ``iin`` wherever it escapes a use case (a use case that takes the
    IIN under another name catches it and raises a FieldError naming that field). ``str()`` is the message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__("iin", message, code=code)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Iin:
    value: str
    birth_date: date
    sex: Literal["F", "M"]

    def __repr__(self) -> str:
        return f"Iin(********{self.value[-4:]})"

    __str__ = __repr__


def check_digit(first11: str) -> int | None:
    digits = [int(c) for c in first11]
    remainder = sum(d * w for d, w in zip(digits, _W1, strict=True)) % 11
    if remainder == 10:
        remainder = sum(d * w for d, w in zip(digits, _W2, strict=True)) % 11
        if remainder == 10:
            return None
    return remainder


def parse_iin(raw: str, *, today: date) -> Iin:
    value = raw.strip(" ")
    if not _ASCII_12_DIGITS.fullmatch(value):
        raise InvalidIin("iin_format", "an IIN is exactly 12 digits 0-9")
    century_sex = int(value[6])
    if century_sex not in _CENTURY:
        raise InvalidIin("iin_century", "the 7th digit of an IIN is 1 to 6")
    try:
        born = date(_CENTURY[century_sex] + int(value[0:2]), int(value[2:4]), int(value[4:6]))
    except ValueError as exc:
        raise InvalidIin("iin_birth_date", "the IIN does not start with a real birth date") from exc
    if born > today:
        raise InvalidIin("iin_birth_date", "the IIN's birth date is in the future")
    expected = check_digit(value[:11])
    if expected is None:
        raise InvalidIin("iin_never_issued", "no IIN is issued with these digits")
    if expected != int(value[11]):
        raise InvalidIin("iin_checksum", "the IIN's check digit does not match")
    return Iin(value=value, birth_date=born, sex="M" if century_sex % 2 else "F")


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))
