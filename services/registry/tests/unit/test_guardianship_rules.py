"""Guardianship rules: who may register a child, the same IIN registered again, ending a guardianship."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

import pytest

from qosym_chassis.errors import Conflict, Forbidden
from registry.domain.errors import AlreadyRegistered, NotAGuardian, Refused, RegisteredElsewhere
from registry.domain.guardianship import (
    ANOTHER_GUARDIAN,
    LAST_GUARDIAN,
    check_can_be_guardian,
    check_unlink,
    is_guardian,
    may_unlink,
    registering_again,
)
from registry.domain.model import Child, Person

pytestmark = pytest.mark.unit
TODAY = date(2026, 11, 23)


def person(born: date) -> Person:
    return Person(uuid4(), born, "F", "0017", "+77011234567")


def child(region: str = "astana", district: str = "yesil") -> Child:
    return Child(uuid4(), uuid4(), date(2018, 9, 5), "F", "0123", region, district)


def test_only_a_registered_adult_registers_a_child() -> None:
    adult = person(date(2008, 11, 23))
    assert check_can_be_guardian(adult, TODAY) is adult
    with pytest.raises(NotAGuardian, match="register with POST /v1/people first"):
        check_can_be_guardian(None, TODAY)
    with pytest.raises(NotAGuardian, match="at least 18"):
        check_can_be_guardian(person(date(2008, 11, 24)), TODAY)


def test_the_same_iin_again_is_the_same_child_for_its_guardian_at_the_same_place() -> None:
    existing, guardian = child(), uuid4()
    assert registering_again(existing, [uuid4(), guardian], guardian, "astana", "yesil") is existing


def test_the_same_iin_from_someone_else_is_refused_without_saying_where_it_lives() -> None:
    existing = child()
    with pytest.raises(AlreadyRegistered) as refused:
        registering_again(existing, [uuid4()], uuid4(), "almaty", "medeu")
    assert str(refused.value) == ANOTHER_GUARDIAN and "astana" not in str(refused.value)


@pytest.mark.parametrize(
    ("region", "district", "field"), [("almaty", "yesil", "region_code"), ("astana", "nura", "district_code")]
)
def test_a_guardian_registering_at_another_place_is_sent_to_the_move_flow(
    region: str, district: str, field: str
) -> None:
    existing, guardian = child(), uuid4()
    with pytest.raises(RegisteredElsewhere) as refused:
        registering_again(existing, [guardian], guardian, region, district)
    assert refused.value.field == field and refused.value.child_id == existing.id
    assert f"PATCH /v1/children/{existing.id}" in str(refused.value)
    assert ("another region" if field == "region_code" else "another district") in str(refused.value)


def test_guardians_are_the_active_ones_and_a_non_person_is_none() -> None:
    first, second = uuid4(), uuid4()
    assert is_guardian(first, [first, second]) and not is_guardian(uuid4(), [first, second])
    assert not is_guardian(None, [first])


def test_only_a_guardian_sees_another_guardianship_of_the_child() -> None:
    first, second = uuid4(), uuid4()
    assert may_unlink(first, second, [first, second]) and may_unlink(first, first, [first, second])
    assert not may_unlink(uuid4(), second, [first, second])
    assert not may_unlink(first, uuid4(), [first, second])
    assert not may_unlink(None, first, [first])


def test_a_child_keeps_at_least_one_guardian() -> None:
    first, second = uuid4(), uuid4()
    check_unlink(second, [first, second])
    check_unlink(first, [first, second])
    with pytest.raises(Refused) as refused:
        check_unlink(first, [first])
    assert str(refused.value) == LAST_GUARDIAN


async def test_guardianship_refusals_are_the_chassis_errors() -> None:
    existing, guardian = child(), uuid4()

    async def again(region: str, guardians: list[UUID]) -> Child:
        return registering_again(existing, guardians, guardian, region, "yesil")

    async def register(born: date | None) -> Person:
        return check_can_be_guardian(None if born is None else person(born), TODAY)

    with pytest.raises(Conflict) as elsewhere:
        await again("almaty", [guardian])
    assert elsewhere.value.status == 409
    assert elsewhere.value.errors == [
        {"field": "region_code", "message": elsewhere.value.detail, "type": "registered_elsewhere"}
    ]
    with pytest.raises(Conflict) as taken:
        await again("astana", [uuid4()])
    assert taken.value.detail == ANOTHER_GUARDIAN and taken.value.errors is None
    with pytest.raises(Forbidden) as minor:
        await register(date(2010, 1, 1))
    assert minor.value.status == 403 and minor.value.detail == "a guardian must be at least 18"
