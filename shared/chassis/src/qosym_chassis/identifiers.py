"""The platform's one check of the banking and legal-entity identifiers: IBAN, BIC and the Kazakh BIN.

IBAN (ISO 13616: the country's length and BBAN format, mod-97 check digits) and BIC (ISO 9362: 4 letters of
institution, an ISO 3166 country, 2 letters or digits of location, an optional 3-character branch) are checked by
python-stdnum (``stdnum.iban``, ``stdnum.bic``), never by a hand-written regex or mod-97. python-stdnum has no
Kazakh BIN module: a BIN is 12 ASCII digits with the same check digit as an IIN (``qosym_chassis.iin.check_digit``,
two weight passes) and an entity type of 4, 5 or 6 in its 5th digit (an IIN has a month digit 0-3 there).

Each function takes the text as a person typed it (spaces allowed, any case for IBAN and BIC). ``valid_*`` answers
a bool; ``*_problem`` the reason code of a refusal (``format``, ``check_digit``, ``entity_type``) or None, for a
``FieldError(field, message, code=...)``; ``compact_*`` the stored form (no spaces, upper case). Nothing here logs
or echoes the value.
"""

from __future__ import annotations

from stdnum import bic as _bic
from stdnum import iban as _iban
from stdnum.exceptions import InvalidChecksum, ValidationError

from qosym_chassis.iin import check_digit

BIN_LENGTH = 12
BIN_ENTITY_TYPES = frozenset("456")


def compact_iban(raw: str) -> str:
    return str(_iban.compact(raw))


def iban_problem(raw: str, *, country: str | None = None) -> str | None:
    """None for an IBAN valid for its country (length, BBAN format, check digits) and, with ``country`` ("KZ"),
    of that country; otherwise ``check_digit`` (the check digits do not match) or ``format``."""
    try:
        value = str(_iban.validate(raw))
    except InvalidChecksum:
        return "check_digit" if _well_formed(compact_iban(raw)) else "format"
    except ValidationError:
        return "format"
    if country is not None and not value.startswith(country.upper()):
        return "format"
    return None


def _well_formed(value: str) -> bool:
    """Whether only the check digits are wrong: the same IBAN with correct ones is valid (python-stdnum checks the
    digits before the country's length and format, and a refusal should name the first thing wrong)."""
    if len(value) < 5 or not value[2:4].isascii() or not value[2:4].isdigit():
        return False
    try:
        corrected = value[:2] + str(_iban.calc_check_digits(value)) + value[4:]
        _iban.validate(corrected)
    except (ValidationError, ValueError, KeyError):
        return False
    return True


def valid_iban(raw: str, *, country: str | None = None) -> bool:
    return iban_problem(raw, country=country) is None


def compact_bic(raw: str) -> str:
    return str(_bic.compact(raw))


def bic_problem(raw: str) -> str | None:
    """None for a BIC of 8 or 11 characters whose country part is an ISO 3166 code; otherwise ``format``."""
    try:
        _bic.validate(raw)
    except ValidationError:
        return "format"
    return None


def valid_bic(raw: str) -> bool:
    return bic_problem(raw) is None


def compact_bin(raw: str) -> str:
    return raw.replace(" ", "")


def bin_problem(raw: str) -> str | None:
    """None for a Kazakh BIN; otherwise ``format`` (not 12 ASCII digits), ``check_digit`` (the IIN check digit does
    not match, or no number is ever issued with these 11 digits) or ``entity_type`` (5th digit not 4, 5 or 6)."""
    value = compact_bin(raw)
    if len(value) != BIN_LENGTH or not value.isascii() or not value.isdigit():
        return "format"
    expected = check_digit(value[:11])
    if expected is None or expected != int(value[11]):
        return "check_digit"
    if value[4] not in BIN_ENTITY_TYPES:
        return "entity_type"
    return None


def valid_bin(raw: str) -> bool:
    return bin_problem(raw) is None


__all__ = [
    "bic_problem",
    "bin_problem",
    "compact_bic",
    "compact_bin",
    "compact_iban",
    "iban_problem",
    "valid_bic",
    "valid_bin",
    "valid_iban",
]
