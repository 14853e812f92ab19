"""Pure validation of the identifiers a provider registers with: the BIN and a Kazakh IBAN."""

from __future__ import annotations

import string
from datetime import date

from qosym_chassis import iin
from qosym_chassis.errors import FieldError

W1 = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
W2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
KZ_IBAN_LENGTH = 20
_ALNUM = set(string.ascii_uppercase + string.digits)


class InvalidIdentifier(FieldError):
    """A malformed identifier: a 422 problem naming the field (docs/architecture.md, "Layers")."""

    def __init__(self, field: str, message: str, code: str = "invalid") -> None:
        super().__init__(field, message, code=code)
        self.field = field
        self.code = code


def check_digit(first11: str) -> int | None:
    """The IIN/BIN check digit (two weight passes); None when no number is ever issued with these digits."""
    digits = [int(c) for c in first11]
    r = sum(a * w for a, w in zip(digits, W1, strict=True)) % 11
    if r == 10:
        r = sum(a * w for a, w in zip(digits, W2, strict=True)) % 11
        if r == 10:
            return None
    return r


def _twelve_digits(raw: str, field: str) -> str:
    value = raw.replace(" ", "")
    if len(value) != 12 or not value.isascii() or not value.isdigit():
        raise InvalidIdentifier(field, "must be exactly 12 digits", "format")
    expected = check_digit(value[:11])
    if expected is None or expected != int(value[11]):
        raise InvalidIdentifier(field, "the check digit does not match", "check_digit")
    return value


def parse_bin(raw: str) -> str:
    """A legal entity's BIN: 12 digits, the IIN check digit, and an entity type (5th digit) of 4, 5 or 6."""
    value = _twelve_digits(raw, "bin")
    if value[4] not in "456":
        raise InvalidIdentifier("bin", "the 5th digit (entity type) must be 4, 5 or 6", "entity_type")
    return value


def parse_iin(raw: str, *, today: date) -> str:
    """A person's IIN (staff), checked by the platform's one IIN validator (birth date, century digit, check digit)."""
    try:
        return iin.parse_iin(raw.replace(" ", ""), today=today).value
    except iin.InvalidIin as exc:
        raise InvalidIdentifier("iin", str(exc), exc.code) from exc


def parse_kz_iban(raw: str) -> str:
    """A Kazakh IBAN: KZ + 2 check digits + 16 alphanumerics, ISO 13616 mod-97 check equal to 1."""
    value = raw.replace(" ", "").upper()
    if (
        len(value) != KZ_IBAN_LENGTH
        or not value.isascii()
        or not value.startswith("KZ")
        or not value[2:4].isdigit()
        or not set(value[4:]) <= _ALNUM
    ):
        raise InvalidIdentifier("iban", "must be KZ, 2 check digits and 16 letters or digits (20 characters)", "format")
    rearranged = value[4:] + value[:4]
    numeric = "".join(str(int(c, 36)) for c in rearranged)
    if int(numeric) % 97 != 1:
        raise InvalidIdentifier("iban", "the IBAN check digits do not match", "check_digit")
    return value


def kz_iban_with_check(bban16: str) -> str:
    """Build a valid KZ IBAN for 16 alphanumerics (tests and fixtures)."""
    numeric = "".join(str(int(c, 36)) for c in bban16.upper() + "KZ00")
    return f"KZ{98 - int(numeric) % 97:02d}{bban16.upper()}"
