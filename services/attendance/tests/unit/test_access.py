"""Attendance's access rule fails closed: an operator whose scope names no region oversees nothing."""

import pytest

from attendance.service_layer.access import Caller
from qosym_chassis.errors import Forbidden

pytestmark = pytest.mark.unit


def test_an_operator_without_a_region_oversees_nothing_and_lists_nothing():
    for scope in ({}, {"district": "yesil"}, {"region": ""}):
        caller = Caller("op", "operator", scope)
        assert not caller.oversees("astana", "yesil")
        assert not caller.may_decide_for("astana")
        with pytest.raises(Forbidden):
            _ = caller.operator_region


def test_an_operator_oversees_their_region_and_district_only():
    caller = Caller("op", "operator", {"region": "astana", "district": "yesil"})
    assert caller.oversees("astana", "yesil") and caller.operator_region == "astana"
    assert not caller.oversees("astana", "nura") and not caller.oversees("almaty", "yesil")
    assert Caller("a", "auditor").oversees("almaty") and not Caller("a", "auditor").may_decide_for("almaty")


def test_a_district_operator_acts_on_no_object_without_a_district_and_reads_only_region_wide_ones():
    district = Caller("op", "operator", {"region": "astana", "district": "yesil"})
    region = Caller("op", "operator", {"region": "astana"})
    assert not district.oversees("astana") and not district.may_decide_for("astana")
    assert district.oversees("astana", region_wide_read=True)
    assert not district.oversees("astana", "nura", region_wide_read=True)
    assert region.oversees("astana") and region.may_decide_for("astana")
    assert Caller("a", "administrator").may_decide_for("astana")
