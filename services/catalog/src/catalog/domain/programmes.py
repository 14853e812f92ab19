"""Pure programme rules: schedules, age bands, capacity, enrolment states and search sorting."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time

from qosym_chassis.errors import FieldError

DIRECTIONS = ("sports", "creativity", "intellectual")
LANGUAGES = ("kk", "ru", "en")
ACTIVE_ENROLMENT = ("requested", "confirmed")


class RuleBroken(FieldError):
    """A rule broken on one field: a 422 problem naming the field (docs/architecture.md, "Layers")."""

    def __init__(self, field: str, message: str, code: str = "invalid") -> None:
        super().__init__(field, message, code=code)
        self.field = field
        self.code = code


@dataclass(frozen=True)
class Slot:
    weekday: int
    start: time
    end: time

    def overlaps(self, other: Slot) -> bool:
        """Half-open intervals: a session ending at 17:00 does not clash with one starting at 17:00."""
        return self.weekday == other.weekday and self.start < other.end and other.start < self.end


def check_schedule(slots: Iterable[Slot]) -> None:
    listed = list(slots)
    if not listed:
        raise RuleBroken("schedule", "at least one weekly session is required")
    for i, slot in enumerate(listed):
        if not 1 <= slot.weekday <= 7:
            raise RuleBroken(f"schedule.{i}.weekday", "must be an ISO weekday 1-7")
        if slot.start >= slot.end:
            raise RuleBroken(f"schedule.{i}.end", "must be after the start")
    for i, slot in enumerate(listed):
        for j in range(i + 1, len(listed)):
            if slot.overlaps(listed[j]):
                raise RuleBroken(f"schedule.{j}", "overlaps another session of the same programme")


def schedules_clash(a: Iterable[Slot], b: Iterable[Slot]) -> bool:
    """True when any session of ``a`` overlaps any of ``b`` (the same coach cannot be in two places)."""
    other = list(b)
    return any(x.overlaps(y) for x in a for y in other)


def check_age_band(age_min: int, age_max: int) -> None:
    if age_min > age_max:
        raise RuleBroken("age_max", "must not be below age_min")


def check_capacity(new_capacity: int, reserved: int) -> None:
    """Capacity may shrink, but never below the seats already held."""
    if new_capacity < reserved:
        raise RuleBroken("capacity", f"cannot be below the {reserved} seats already reserved", "below_reserved")


def age_on(birth_date: date, day: date) -> int:
    years = day.year - birth_date.year
    return years - ((day.month, day.day) < (birth_date.month, birth_date.day))


def in_age_band(birth_date: date, day: date, age_min: int, age_max: int) -> bool:
    return age_min <= age_on(birth_date, day) <= age_max


def holds_seat(status: str) -> bool:
    return status in ACTIVE_ENROLMENT


def can_end(status: str) -> bool:
    return status in ACTIVE_ENROLMENT


def within_decline_window(days_since_request: float, window_days: int) -> bool:
    return 0 <= days_since_request <= window_days


PROVIDER_MOVES: dict[tuple[str, str], str] = {
    ("pending", "verify"): "verified",
    ("pending", "reject"): "rejected",
    ("verified", "suspend"): "suspended",
    ("suspended", "verify"): "verified",
}


PAST = {"verify": "verified", "reject": "rejected", "suspend": "suspended"}


def provider_move(status: str, action: str) -> str:
    try:
        return PROVIDER_MOVES[(status, action)]
    except KeyError as exc:
        raise RuleBroken("status", f"a {status} provider cannot be {PAST[action]}", "invalid_transition") from exc


STAFF_ATTESTATIONS = ("criminal_record", "qualification")
FACILITY_ATTESTATIONS = ("sanitary", "fire")


def check_attestation_kind(subject_type: str, kind: str) -> None:
    allowed = STAFF_ATTESTATIONS if subject_type == "staff" else FACILITY_ATTESTATIONS
    if kind not in allowed:
        raise RuleBroken("kind", f"a {subject_type} attestation is one of: {', '.join(allowed)}")


def missing_attestations(subject_type: str, valid_until: dict[str, date], today: date) -> list[str]:
    """The attestation kinds a staff member or facility lacks, or holds only expired, on ``today``."""
    required = STAFF_ATTESTATIONS if subject_type == "staff" else FACILITY_ATTESTATIONS
    return [kind for kind in required if valid_until.get(kind) is None or valid_until[kind] < today]
