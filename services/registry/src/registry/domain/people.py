"""Rules about people: adults who act as guardians, declared data checked against the IIN, OTP codes."""

from __future__ import annotations

import re
from datetime import date

from qosym_chassis.iin import Iin, age_on
from registry.domain.errors import RegistrationRefused

ADULT_AGE = 18
OTP_DIGITS = 6
OTP_MAX_ATTEMPTS = 5
OTP_TTL_S = 300
_PHONE = re.compile(r"\+[1-9][0-9]{7,14}")
EVIDENCE_MAX_BYTES = 5 * 1024 * 1024
_MAGIC = {b"%PDF-": "application/pdf", b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}


def check_adult(iin: Iin, today: date) -> None:
    if age_on(iin.birth_date, today) < ADULT_AGE:
        raise RegistrationRefused("iin", "guardian_not_adult", f"a guardian must be at least {ADULT_AGE}")


def check_phone(phone: str) -> str:
    compact = phone.replace(" ", "").replace("-", "")
    if not _PHONE.fullmatch(compact):
        raise RegistrationRefused("phone", "phone_format", "a phone number in international format, e.g. +77011234567")
    return compact


def declared_mismatches(iin: Iin, declared_birth_date: date | None, declared_sex: str | None) -> list[str]:
    """Flags for an operator when what the person declared disagrees with what the IIN says."""
    flags = []
    if declared_birth_date is not None and declared_birth_date != iin.birth_date:
        flags.append("declared_birth_date_mismatch")
    if declared_sex is not None and declared_sex != iin.sex:
        flags.append("declared_sex_mismatch")
    return flags


def sniff_evidence(head: bytes) -> str | None:
    """The document type from its first bytes (never the client's Content-Type), or None when not allowed."""
    return next((kind for magic, kind in _MAGIC.items() if head.startswith(magic)), None)
