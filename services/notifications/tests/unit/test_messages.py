from uuid import uuid4

import pytest

from notifications.domain import messages as m

pytestmark = pytest.mark.unit


def test_a_registered_child_is_news_for_its_guardian_keyed_by_the_child() -> None:
    guardian, child = uuid4(), uuid4()

    notice = m.child_registered(guardian, child, "astana", "yesil")
    message = m.addressed(notice, notice.target, uuid4())

    assert message.person_id == guardian
    assert (message.kind, message.subject_id) == (m.CHILD_REGISTERED, child)
    assert message.dedup_key == f"child_registered:{child}"  # a replay under a new event id is the same message
    assert message.payload == {"child_id": str(child), "region_code": "astana", "district_code": "yesil"}


def test_group_audiences_name_no_person() -> None:
    provider = uuid4()

    assert m.person_of(m.provider_audience(provider)) is None
    assert m.person_of(m.operators_audience("astana")) is None
    assert m.person_of(m.person_audience(provider)) == provider


def test_what_each_role_reads() -> None:
    me, provider = uuid4(), uuid4()
    own = m.person_audience(me)

    assert m.audiences_of("parent", me, {}) == (own,)
    assert m.audiences_of("provider_staff", me, {"provider": str(provider)}) == (own, f"provider:{provider}")
    assert m.audiences_of("provider_staff", me, {}) == (own,)
    assert m.audiences_of("operator", me, {"region": "astana"}) == (own, "operators:astana")
    assert m.audiences_of("administrator", me, {"region": "almaty"}) == (own, "administrators:almaty")
    assert m.audiences_of("administrator", me, {}) == (own, m.ALL_ADMINISTRATORS)
    assert m.audiences_of("auditor", me, {"region": "astana"}) == (own,)


def test_a_national_administrator_matches_every_regions_administrators_but_nothing_else() -> None:
    wanted = (m.ALL_ADMINISTRATORS,)

    assert m.audience_matches("administrators:astana", wanted)
    assert not m.audience_matches("operators:astana", wanted)
    assert not m.audience_matches(f"person:{uuid4()}", wanted)
    assert m.audience_matches("operators:astana", ("operators:astana",))
    assert not m.audience_matches("operators:almaty", ("operators:astana",))


def test_the_first_waitlisting_is_the_rounds_result_and_later_ones_are_changes() -> None:
    assert m.waitlist_kind(None) == m.WAITLISTED
    assert m.waitlist_kind(7) == m.WAITLIST_POSITION_CHANGED


def test_a_voucher_for_a_waitlisted_application_is_a_reoffer() -> None:
    assert m.award_kind(was_waitlisted=False) == m.VOUCHER_AWARDED
    assert m.award_kind(was_waitlisted=True) == m.VOUCHER_REOFFERED
