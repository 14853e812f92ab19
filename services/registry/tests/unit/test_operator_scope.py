"""An operator scope fails closed: without a region it covers nothing; an administrator's covers everything."""

import pytest

from registry.domain.model import OperatorScope

pytestmark = pytest.mark.unit


def test_an_operator_scope_without_a_region_covers_nothing():
    for scope in (OperatorScope(), OperatorScope(district="yesil"), OperatorScope(region="")):
        assert scope.limited
        assert not scope.covers_region("astana")
        assert not scope.covers("astana", "yesil")


def test_a_region_and_a_district_limit_an_operator():
    region, district = OperatorScope(region="astana"), OperatorScope(region="astana", district="yesil")
    assert region.covers("astana", "nura") and not region.covers("almaty", "medeu")
    assert district.covers("astana", "yesil") and not district.covers("astana", "nura")
    assert district.covers_region("astana")


def test_an_administrator_covers_every_region():
    admin = OperatorScope(everywhere=True)
    assert not admin.limited and admin.covers("almaty", "medeu") and admin.covers_region("astana")
