"""Coverage per 1,000 children: vouchers of a district against the child population the region file gives."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from insights.domain.facts import Application, Facts, Region, Voucher
from insights.domain.figures import Filter, equity

pytestmark = pytest.mark.unit

AT = datetime(2026, 9, 1, tzinfo=UTC)


def _facts(applied: dict[str, int], awarded: dict[str, int], population: dict[str, int]) -> Facts:
    districts = sorted(set(applied) | set(population) | {"quiet"})
    facts = Facts(
        "astana",
        region=Region(
            code="astana",
            name={"en": "Astana"},
            timezone="Asia/Almaty",
            districts=districts,
            district_names={},
            directions=["sports"],
            budget_tiyn=10**9,
            child_population=population,
        ),
    )
    for district, n in applied.items():
        for i in range(n):
            application = Application(uuid4(), None, f"{district}-{i}", district, "sports", AT, False, False)
            facts.applications.append(application)
            if i < awarded.get(district, 0):
                facts.vouchers.append(
                    Voucher(
                        uuid4(),
                        application.application_id,
                        None,
                        application.child_key,
                        district,
                        "sports",
                        1000,
                        9,
                        AT,
                        None,
                    )
                )
    return facts


def test_coverage_is_vouchers_per_1000_children_and_flags_districts_below_the_region() -> None:
    facts = _facts({"yesil": 10, "nura": 10}, {"yesil": 6, "nura": 2}, {"yesil": 2000, "nura": 1000, "quiet": 1000})
    result = equity(facts, Filter())
    # the region: 8 vouchers over 4,000 children
    assert result.region_coverage_per_1000 == 2.0
    assert result.population_known is True
    by_district = {d.district: d for d in result.districts}
    assert (by_district["yesil"].coverage_per_1000, by_district["yesil"].coverage_below_region) == (3.0, False)
    assert (by_district["nura"].coverage_per_1000, by_district["nura"].coverage_below_region) == (2.0, False)
    # a district with children and no application at all is listed, with no coverage, below the region
    quiet = by_district["quiet"]
    assert (quiet.applicants, quiet.vouchers, quiet.child_population) == (0, 0, 1000)
    assert (quiet.coverage_per_1000, quiet.coverage_below_region) == (0.0, True)


def test_without_a_population_coverage_is_unknown() -> None:
    result = equity(_facts({"yesil": 4}, {"yesil": 1}, {}), Filter())
    assert result.population_known is False
    assert result.region_coverage_per_1000 is None
    assert [
        (d.district, d.child_population, d.coverage_per_1000, d.coverage_below_region) for d in result.districts
    ] == [("yesil", None, None, False)]


def test_a_partly_known_population_covers_only_the_districts_with_one() -> None:
    result = equity(_facts({"yesil": 4, "nura": 4}, {"yesil": 2, "nura": 4}, {"yesil": 1000}), Filter())
    assert result.population_known is False  # nura and quiet have none
    assert result.region_coverage_per_1000 == 2.0  # yesil's 2 vouchers over yesil's 1,000 children
    coverage = {d.district: d.coverage_per_1000 for d in result.districts}
    assert coverage == {"nura": None, "yesil": 2.0}
