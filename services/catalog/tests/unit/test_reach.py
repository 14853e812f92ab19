"""Which places a staff caller reaches, and the same rule as SQL for listings."""

from __future__ import annotations

import pytest
from sqlalchemy import column
from sqlalchemy.dialects import postgresql

from catalog.adapters.scopes import within
from catalog.domain.reach import EVERYWHERE, NOWHERE, Reach
from catalog.service_layer.access import Caller

pytestmark = pytest.mark.unit


def test_a_region_reach_covers_every_district_of_it_and_nothing_else() -> None:
    astana = Reach(region="astana")
    assert astana.covers("astana", "yesil") and astana.covers("astana", None)
    assert not astana.covers("almaty", "yesil")


def test_a_district_reach_covers_only_that_district() -> None:
    yesil = Reach(region="astana", district="yesil")
    assert yesil.covers("astana", "yesil")
    assert not yesil.covers("astana", "nura")
    assert not yesil.covers("almaty", "yesil")


def test_everywhere_and_nowhere() -> None:
    assert EVERYWHERE.covers("almaty", None)
    assert not NOWHERE.covers("astana", "yesil")


@pytest.mark.parametrize(
    ("caller", "reach"),
    [
        (Caller("a", "administrator", region="astana"), EVERYWHERE),  # a region in an admin's token does not limit
        (Caller("o", "operator", region="astana", district="yesil"), Reach(region="astana", district="yesil")),
        (Caller("o", "operator"), NOWHERE),  # an operator without a region reaches nothing
        (Caller("p", "parent", region="astana"), NOWHERE),
        (Caller("s", "provider_staff"), NOWHERE),
    ],
)
def test_a_caller_reaches_by_role_and_scope(caller: Caller, reach: Reach) -> None:
    assert caller.reach == reach


def _sql(reach: Reach) -> str:
    clause = within(reach, column("region_code"), column("district_code"))
    return str(clause.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


def test_the_sql_says_the_same() -> None:
    assert _sql(EVERYWHERE) == "true"
    assert _sql(NOWHERE) == "false"
    assert _sql(Reach(region="astana")) == "region_code = 'astana'"
    assert _sql(Reach(region="astana", district="yesil")) == "region_code = 'astana' AND district_code = 'yesil'"
