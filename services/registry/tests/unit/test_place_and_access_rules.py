"""Where a child may be registered or moved, who the caller is to the use cases, and pages of small lists."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from qosym_chassis.auth import Principal
from qosym_chassis.errors import Unprocessable
from registry.domain.errors import RegistrationRefused
from registry.domain.model import RegionRules, check_place
from registry.service_layer.access import actor_of, guardian_id, person_id, scope_of
from registry.service_layer.paging import Page

pytestmark = pytest.mark.unit
TODAY = date(2026, 11, 23)
ASTANA = RegionRules("astana", frozenset({"yesil", "nura"}), child_age_min=6, child_age_max=18)


@pytest.mark.parametrize(
    ("region", "district", "born", "field", "code"),
    [
        (None, "yesil", date(2018, 9, 5), "region_code", "unknown_region"),
        (ASTANA, "medeu", date(2018, 9, 5), "district_code", "unknown_district"),
        (ASTANA, "yesil", date(2021, 1, 1), "region_code", "age_out_of_band"),
        (ASTANA, "yesil", date(2007, 11, 22), "region_code", "age_out_of_band"),
    ],
)
def test_a_place_the_region_does_not_serve_is_refused(
    region: RegionRules | None, district: str, born: date, field: str, code: str
) -> None:
    with pytest.raises(RegistrationRefused) as refused:
        check_place(born, region, district, TODAY)
    assert (refused.value.field, refused.value.code) == (field, code)


def test_the_age_band_includes_both_ends() -> None:
    check_place(date(2020, 11, 23), ASTANA, "yesil", TODAY)  # 6 today
    check_place(date(2007, 11, 24), ASTANA, "nura", TODAY)  # 18 until tomorrow
    with pytest.raises(RegistrationRefused, match="the child is 5; the region serves children aged 6-18"):
        check_place(date(2020, 11, 24), ASTANA, "yesil", TODAY)


def test_an_administrator_is_unscoped_and_an_operator_carries_the_tokens_place() -> None:
    admin = scope_of(Principal("a", "administrator", {"region": "astana"}))
    operator = scope_of(Principal("o", "operator", {"region": "astana", "district": "yesil"}))
    regionless = scope_of(Principal("o", "operator"))
    assert admin.everywhere and admin.covers("almaty", "medeu")
    assert (operator.region, operator.district, operator.everywhere) == ("astana", "yesil", False)
    assert not regionless.covers("astana", "yesil")


def test_a_parents_person_id_is_the_tokens_subject() -> None:
    subject = uuid4()
    assert guardian_id(Principal(str(subject), "parent")) == subject
    with pytest.raises(Unprocessable, match="not a person id"):
        guardian_id(Principal("svc-0123456789ab", "parent"))


def test_the_audit_actor_names_who_acts_and_for_whom() -> None:
    actor = actor_of(Principal("op-1", "operator", {"region": "astana"}, acting_for="parent-2"))
    assert (actor.subject, actor.role, actor.acting_for) == ("op-1", "operator", "parent-2")
    assert person_id(actor) is None
    someone = uuid4()
    assert person_id(actor_of(Principal(str(someone), "parent"))) == someone


def test_a_page_of_a_small_list_counts_all_of_it() -> None:
    ids = [uuid4() for _ in range(5)]
    assert Page.of(ids, 0, 2) == Page(ids[:2], 5, 0, 2)
    assert Page.of(ids, 4, 2) == Page(ids[4:], 5, 4, 2)
    assert Page.of(ids, 9, 2) == Page([], 5, 9, 2)
