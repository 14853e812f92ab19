"""The identifiers a provider registers with (the BIN, a Kazakh IBAN, its bank's BIC) and its staff's IIN.

The rules live once, in ``qosym_chassis.identifiers`` (python-stdnum for IBAN and BIC) and ``qosym_chassis.iin``;
here each refusal becomes a 422 problem naming the field it came from.
"""

from __future__ import annotations

from datetime import date

from qosym_chassis import identifiers, iin
from qosym_chassis.errors import FieldError


class InvalidIdentifier(FieldError):
    """A malformed identifier: a 422 problem naming the field (docs/architecture.md, "Layers")."""

    def __init__(self, field: str, message: str, code: str = "invalid") -> None:
        super().__init__(field, message, code=code)
        self.field = field
        self.code = code


BIN_MESSAGES = {
    "format": "must be exactly 12 digits",
    "check_digit": "the check digit does not match",
    "entity_type": "the 5th digit (entity type) must be 4, 5 or 6",
}
IBAN_MESSAGES = {
    "format": "must be a Kazakh IBAN: KZ, 2 check digits, a 3-digit bank code and 13 letters or digits",
    "check_digit": "the IBAN check digits do not match",
}
BIC_MESSAGE = "must be a BIC (ISO 9362): 8 or 11 letters or digits with the bank's country"


def parse_bin(raw: str) -> str:
    """A legal entity's BIN: 12 digits, the IIN check digit, and an entity type (5th digit) of 4, 5 or 6."""
    problem = identifiers.bin_problem(raw)
    if problem is not None:
        raise InvalidIdentifier("bin", BIN_MESSAGES[problem], problem)
    return identifiers.compact_bin(raw)


def parse_iin(raw: str, *, today: date) -> str:
    """A person's IIN (staff), checked by the platform's one IIN validator (birth date, century digit, check digit)."""
    try:
        return iin.parse_iin(raw.replace(" ", ""), today=today).value
    except iin.InvalidIin as exc:
        raise InvalidIdentifier("iin", str(exc), exc.code) from exc


def parse_kz_iban(raw: str, *, field: str = "iban") -> str:
    """A Kazakh IBAN (ISO 13616: 20 characters, KZ, mod-97 check digits), in its compact form."""
    problem = identifiers.iban_problem(raw, country="KZ")
    if problem is not None:
        raise InvalidIdentifier(field, IBAN_MESSAGES[problem], problem)
    return identifiers.compact_iban(raw)


def parse_bic(raw: str, *, field: str = "bik") -> str:
    """A bank's BIC (ISO 9362), in its compact form (upper case, no spaces)."""
    problem = identifiers.bic_problem(raw)
    if problem is not None:
        raise InvalidIdentifier(field, BIC_MESSAGE, problem)
    return identifiers.compact_bic(raw)
