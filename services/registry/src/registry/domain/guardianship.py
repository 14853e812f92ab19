"""Who may be a child's guardian and how guardianship changes: pure rules over the active guardians' ids."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from uuid import UUID

from qosym_chassis.iin import age_on
from registry.domain.errors import AlreadyRegistered, NotAGuardian, Refused, RegisteredElsewhere
from registry.domain.model import Child, Person
from registry.domain.people import ADULT_AGE

ANOTHER_GUARDIAN = "this child is already registered by another guardian"
LAST_GUARDIAN = "a child keeps at least one guardian"


def check_can_be_guardian(person: Person | None, today: date) -> Person:
    """Only a registered adult person registers a child."""
    if person is None:
        raise NotAGuardian("only a registered person can register a child: register with POST /v1/people first")
    if age_on(person.birth_date, today) < ADULT_AGE:
        raise NotAGuardian(f"a guardian must be at least {ADULT_AGE}")
    return person


def is_guardian(person_id: UUID | None, guardians: Sequence[UUID]) -> bool:
    return person_id is not None and person_id in guardians


def registering_again(
    existing: Child, guardians: Sequence[UUID], guardian_id: UUID, region_code: str, district_code: str
) -> Child:
    """The same IIN registered again: the same child for one of its guardians at the same place; refused for
    anyone else, and for a guardian naming another place (that is a move)."""
    if guardian_id not in guardians:
        raise AlreadyRegistered(ANOTHER_GUARDIAN)
    if region_code != existing.region_code:
        raise RegisteredElsewhere("region_code", existing.id)
    if district_code != existing.district_code:
        raise RegisteredElsewhere("district_code", existing.id)
    return existing


def may_unlink(caller: UUID | None, target: UUID, guardians: Sequence[UUID]) -> bool:
    """Whether the caller may see this guardianship at all: both must be active guardians of the child."""
    return is_guardian(caller, guardians) and target in guardians


def check_unlink(target: UUID, guardians: Sequence[UUID]) -> None:
    """Ending a guardianship never leaves a child without one."""
    if [g for g in guardians if g != target] == []:
        raise Refused(LAST_GUARDIAN)
