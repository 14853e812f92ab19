"""Insights' authorisation matrix: a region's figures belong to the region's operators and the administrators (and
auditors, who read everything); the open data is public by design (aggregates with small cells suppressed)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.insights.tests.component.support import seeded_demo
from tests.security.matrix import Case, Entry, Public, World, check, coverage_problems, open_world

pytestmark = pytest.mark.component
FIGURES = (
    "counts",
    "demand",
    "activation",
    "retention",
    "attendance",
    "budget",
    "providers",
    "time-to-first-lesson",
    "equity",
)


@pytest.fixture(scope="module")
async def world(stack_servers, service_template, jwks_url) -> AsyncIterator[World]:
    async with open_world("insights", stack_servers, service_template, jwks_url) as w:
        await w.deliver(*seeded_demo(children=30).events)
        yield w


async def region(w: World) -> Case:
    return Case(
        path={"region_code": "astana"},
        owners={"region_operator": w.tokens.operator("astana"), "administrator": w.tokens.administrator()},
    )


ENTRIES = [
    Entry("GET", f"/v1/insights/regions/{{region_code}}/{name}", region, owners=("region_operator", "administrator"))
    for name in FIGURES
]
PUBLIC = [
    Public(
        "GET",
        "/v1/open/regions/{region_code}/{dataset}",
        "open data: aggregates by district with every cell below k suppressed (and its complements), no object of "
        "anyone's",
    ),
]


async def test_every_operation_with_an_id_has_a_matrix_entry(world: World) -> None:
    assert coverage_problems(world.openapi, ENTRIES, PUBLIC) == []


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
async def test_foreign_roles_are_refused_and_owners_succeed(world: World, entry: Entry) -> None:
    await check(world, entry)
