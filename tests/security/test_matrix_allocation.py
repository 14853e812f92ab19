"""Allocation's authorisation matrix: a child, its applications and vouchers are its guardian's and the operators'
of its region; rounds and regions are administrators'; what a round publishes (its state, its list) is public."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import yaml

from tests.security.matrix import Case, Entry, Public, World, check, coverage_problems, open_world
from tests.support.events import child_registered

pytestmark = pytest.mark.component
REGIONS = Path(__file__).resolve().parents[2] / "deploy" / "regions"
SPORTS_COST = 1_500_000 * 9
Headers = dict[str, str]


def region_file(code: str) -> dict[str, Any]:
    return dict(yaml.safe_load((REGIONS / f"{code}.yaml").read_text()))


@pytest.fixture(scope="module")
async def world(stack_servers, service_template, jwks_url) -> AsyncIterator[World]:
    async with open_world("allocation", stack_servers, service_template, jwks_url) as w:
        for code in ("astana", "almaty"):
            put = await w.client.put(f"/v1/regions/{code}", json=region_file(code), headers=w.tokens.administrator())
            assert put.status_code == 201, put.text
        yield w


def overseers(w: World) -> dict[str, Headers]:
    return {"region_operator": w.tokens.operator("astana"), "administrator": w.tokens.administrator()}


async def child(w: World) -> tuple[str, Headers]:
    """A child of Astana (Yesil) as registry announces it: (child id, their guardian's headers)."""
    guardian = uuid4()
    event = child_registered(guardian, birth_date=date(2016, 5, 14))
    await w.deliver(event)
    return str(event.child_id), w.tokens.parent(guardian)


async def round_(w: World, *, open_: bool = True) -> str:
    now = datetime.now(UTC)
    body = {
        "region_code": "astana",
        "name": f"matrix {uuid4().hex[:6]}",
        "budget_tiyn": 10 * SPORTS_COST,
        "quotas": {"yesil": {"sports": 2}},
        "application_opens_at": (now - timedelta(hours=1)).isoformat(),
        "application_closes_at": (now + timedelta(days=7)).isoformat(),
        "reference_date": "2026-09-01",
        "voucher_valid_until": "2027-06-30",
    }
    admin = w.tokens.administrator()
    created = await w.client.post("/v1/rounds", json=body, headers=admin)
    assert created.status_code == 201, created.text
    round_id = str(created.json()["round_id"])
    if open_:
        opened = await w.client.post(f"/v1/rounds/{round_id}/open", headers=admin)
        assert opened.status_code == 200, opened.text
    return round_id


async def applied(w: World) -> tuple[str, str, str, Headers]:
    """(round, child, application, guardian's headers): the child applied to an open round of Astana."""
    round_id = await round_(w)
    child_id, parent = await child(w)
    response = await w.client.post(
        f"/v1/rounds/{round_id}/applications", json={"child_id": child_id, "direction": "sports"}, headers=parent
    )
    assert response.status_code == 201, response.text
    return round_id, child_id, str(response.json()["application_id"]), parent


EARLY_CLOSE = {"reason": "demand_met"}  # the rounds here close before their window ends: that needs a reason code


async def awarded(w: World) -> tuple[str, str, str, Headers]:
    """(round, child, voucher, guardian's headers): the round allocated, the child's voucher awarded."""
    round_id, child_id, _, parent = await applied(w)
    admin = w.tokens.administrator()
    for action, body in (("close", EARLY_CLOSE), ("allocate", None)):
        response = await w.client.post(f"/v1/rounds/{round_id}/{action}", headers=admin, json=body)
        assert response.status_code == 200, response.text
    vouchers = await w.client.get(f"/v1/children/{child_id}/vouchers", headers=parent)
    assert vouchers.status_code == 200 and len(vouchers.json()["items"]) == 1, vouchers.text
    return round_id, child_id, str(vouchers.json()["items"][0]["voucher_id"]), parent


# --- factories ----------------------------------------------------------------------------------------------


async def region(w: World) -> Case:
    return Case(path={"code": "astana"}, owners={"administrator": w.tokens.administrator()}, body=region_file("astana"))


async def children(w: World) -> Case:
    child_id, _ = await child(w)
    return Case(path={}, query={"region_code": "astana"}, owners=overseers(w), marker=child_id)


async def child_case(w: World) -> Case:
    child_id, parent = await child(w)
    return Case(path={"child_id": child_id}, owners={"guardian": parent, **overseers(w)})


async def awarded_child(w: World) -> Case:
    _, child_id, voucher_id, parent = await awarded(w)
    return Case(path={"child_id": child_id}, owners={"guardian": parent, **overseers(w)}, marker=voucher_id)


async def draft_round(w: World) -> Case:
    return Case(path={"round_id": await round_(w, open_=False)}, owners={"administrator": w.tokens.administrator()})


async def open_round(w: World) -> Case:
    return Case(
        path={"round_id": await round_(w)}, owners={"administrator": w.tokens.administrator()}, body=EARLY_CLOSE
    )


async def closed_round(w: World) -> Case:
    round_id = await round_(w)
    closed = await w.client.post(f"/v1/rounds/{round_id}/close", headers=w.tokens.administrator(), json=EARLY_CLOSE)
    assert closed.status_code == 200, closed.text
    return Case(path={"round_id": round_id}, owners={"administrator": w.tokens.administrator()}, body={})


async def allocated_round(w: World) -> Case:
    round_id, _, _, _ = await awarded(w)
    return Case(path={"round_id": round_id}, owners={"administrator": w.tokens.administrator()}, body={})


async def application(w: World) -> Case:
    _, _, application_id, parent = await applied(w)
    return Case(path={"application_id": application_id}, owners={"guardian": parent, **overseers(w)})


async def new_application(w: World) -> Case:
    round_id = await round_(w)
    child_id, parent = await child(w)
    return Case(
        path={"round_id": round_id},
        owners={"guardian": parent},
        body={"child_id": child_id, "direction": "sports"},
        expect=201,
    )


async def voucher(w: World) -> Case:
    _, _, voucher_id, parent = await awarded(w)
    return Case(
        path={"voucher_id": voucher_id},
        owners={"guardian": parent, "administrator": w.tokens.administrator()},
        body={"reason": "false_information"},  # a reason code (free text before issue 13)
    )


# --- the matrix ---------------------------------------------------------------------------------------------

ADMIN = ("administrator",)
ROUND = "/v1/rounds/{round_id}"
ENTRIES = [
    Entry("PUT", "/v1/regions/{code}", region, owners=ADMIN),
    Entry("GET", "/v1/children", children, owners=("region_operator", "administrator"), listing=True),
    Entry("GET", "/v1/children/{child_id}", child_case, owners=("guardian", "region_operator", "administrator")),
    Entry(
        "GET",
        "/v1/children/{child_id}/vouchers",
        awarded_child,
        owners=("guardian", "region_operator", "administrator"),
    ),
    Entry("POST", ROUND + "/open", draft_round, owners=ADMIN),
    Entry("POST", ROUND + "/close", open_round, owners=ADMIN),
    Entry("POST", ROUND + "/allocate", closed_round, owners=ADMIN),
    Entry("POST", ROUND + "/simulate", allocated_round, owners=ADMIN, note="compares against an allocated round"),
    Entry("GET", ROUND + "/vouchers", allocated_round, owners=ADMIN),
    Entry(
        "POST",
        ROUND + "/applications",
        new_application,
        owners=("guardian",),
        refusals=(403, 404, 422),
        note="the child in the body",
    ),
    Entry(
        "GET", "/v1/applications/{application_id}", application, owners=("guardian", "region_operator", "administrator")
    ),
    Entry(
        "GET",
        "/v1/applications/{application_id}/explanation",
        application,
        owners=("guardian", "administrator"),
    ),
    Entry("POST", "/v1/applications/{application_id}/withdraw", application, owners=("guardian",)),
    Entry("POST", "/v1/vouchers/{voucher_id}/decline", voucher, owners=("guardian",)),
    Entry("POST", "/v1/vouchers/{voucher_id}/revoke", voucher, owners=ADMIN),
]
PUBLIC = [
    Public("GET", "/v1/regions/{code}", "a region's published configuration (districts, directions, voucher values)"),
    Public("GET", "/v1/rounds", "published rounds of a region (dates, quotas, committed seed hash)"),
    Public("GET", ROUND, "a round's public state (the seed is revealed only after closing)"),
    Public("GET", ROUND + "/published-list", "the round's public, pseudonymous ranked list (verifiable lottery)"),
]


async def test_every_operation_with_an_id_has_a_matrix_entry(world: World) -> None:
    assert coverage_problems(world.openapi, ENTRIES, PUBLIC) == []


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
async def test_foreign_roles_are_refused_and_owners_succeed(world: World, entry: Entry) -> None:
    await check(world, entry)
