"""Who takes part in a thread: the child's guardians, and the one counterpart the thread is held with."""

from __future__ import annotations

from uuid import uuid4

import pytest

from conversations.domain.participants import (
    Caller,
    NoSuchCounterpart,
    NotAParticipant,
    Subject,
    check_counterpart,
    other_side,
    side_of,
)

pytestmark = pytest.mark.unit

GUARDIAN = str(uuid4())
PROVIDER = uuid4()
ENROLMENT = Subject("enrolment", uuid4(), uuid4(), PROVIDER, "astana", "yesil")
APPLICATION = Subject("application", uuid4(), uuid4(), None, "astana", "yesil")


def parent(subject: str = GUARDIAN) -> Caller:
    return Caller(role="parent", subject=subject)


def staff(provider: object = PROVIDER) -> Caller:
    return Caller(role="provider_staff", subject=str(uuid4()), provider_id=str(provider))


def operator(region: str = "astana", district: str | None = None) -> Caller:
    return Caller(role="operator", subject=str(uuid4()), region_code=region, district_code=district)


@pytest.mark.parametrize("counterpart", ["provider", "consultation_point"])
def test_a_guardian_of_the_child_takes_part_in_either_thread(counterpart: str) -> None:
    assert side_of(parent(), ENROLMENT, counterpart, [GUARDIAN]) == "guardian"  # type: ignore[arg-type]


@pytest.mark.parametrize("counterpart", ["provider", "consultation_point"])
def test_a_parent_who_is_not_a_guardian_takes_no_part(counterpart: str) -> None:
    with pytest.raises(NotAParticipant):
        side_of(parent(str(uuid4())), ENROLMENT, counterpart, [GUARDIAN])  # type: ignore[arg-type]


def test_the_providers_staff_take_part_in_the_provider_thread_only() -> None:
    assert side_of(staff(), ENROLMENT, "provider", [GUARDIAN]) == "provider_staff"
    with pytest.raises(NotAParticipant):
        side_of(staff(), ENROLMENT, "consultation_point", [GUARDIAN])


def test_another_providers_staff_take_no_part() -> None:
    with pytest.raises(NotAParticipant):
        side_of(staff(uuid4()), ENROLMENT, "provider", [GUARDIAN])


def test_staff_take_no_part_in_an_object_without_a_provider() -> None:
    with pytest.raises(NotAParticipant):
        side_of(staff(), APPLICATION, "provider", [GUARDIAN])


def test_the_regions_operators_are_the_consultation_point() -> None:
    assert side_of(operator(), ENROLMENT, "consultation_point", []) == "operator"
    assert side_of(operator(district="yesil"), ENROLMENT, "consultation_point", []) == "operator"
    with pytest.raises(NotAParticipant):
        side_of(operator(), ENROLMENT, "provider", [])


@pytest.mark.parametrize("who", [operator("almaty"), operator(district="saryarka"), Caller("operator", "x")])
def test_an_operator_of_another_region_or_district_or_none_takes_no_part(who: Caller) -> None:
    with pytest.raises(NotAParticipant):
        side_of(who, ENROLMENT, "consultation_point", [GUARDIAN])


@pytest.mark.parametrize("role", ["administrator", "auditor", "ops", "partner"])
def test_no_other_role_takes_part(role: str) -> None:
    with pytest.raises(NotAParticipant):
        side_of(Caller(role=role, subject=GUARDIAN, region_code="astana"), ENROLMENT, "consultation_point", [GUARDIAN])


def test_an_application_has_a_consultation_point_but_no_provider() -> None:
    check_counterpart(APPLICATION, "consultation_point")
    check_counterpart(ENROLMENT, "provider")
    with pytest.raises(NoSuchCounterpart):
        check_counterpart(APPLICATION, "provider")
    no_region = Subject("timesheet", uuid4(), uuid4(), PROVIDER, None, None)
    with pytest.raises(NoSuchCounterpart):
        check_counterpart(no_region, "consultation_point")


def test_the_other_side_of_a_thread() -> None:
    assert other_side("provider") == "provider_staff"
    assert other_side("consultation_point") == "operator"
