"""Attendance's authorisation matrix: a group's month belongs to its provider, a child's month to the guardian,
disputes, late permits and risk flags to the operators of the region (and administrators)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID, uuid4

import pytest

from services.attendance.tests.component.support import OCTOBER, local, offset_to
from services.attendance.tests.component.support import World as Groups
from tests.security.matrix import Case, Entry, Public, World, check, coverage_problems, open_world
from tests.support.events import region_event

pytestmark = pytest.mark.component
NOV_2 = local(2026, 11, 2, 10)


@pytest.fixture(scope="module")
async def world(stack_servers, service_template, jwks_url) -> AsyncIterator[World]:
    async with open_world(
        "attendance", stack_servers, service_template, jwks_url, clock_offset_s=offset_to(NOV_2)
    ) as w:
        await w.deliver(region_event(region_code="astana"), region_event(region_code="almaty"))
        yield w


def groups(w: World) -> Groups:
    return Groups(url=w.url, consumer=w.consumer, provider_id=uuid4())


def overseers(w: World) -> dict[str, dict[str, str]]:
    return {"region_operator": w.tokens.operator("astana"), "administrator": w.tokens.administrator()}


async def group(w: World) -> tuple[Groups, UUID, UUID, UUID]:
    """A programme of a new provider with one child enrolled since September: (groups, programme, enrolment,
    guardian)."""
    g = groups(w)
    programme_id = await g.programme()
    enrolment_id, _, guardian = await g.enrol(programme_id)
    return g, programme_id, enrolment_id, guardian


async def marked(w: World) -> tuple[Groups, UUID, UUID]:
    g, programme_id, _, guardian = await group(w)
    response = await w.client.put(
        f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}/marks",
        json={"all_scheduled": "attended"},
        headers=w.tokens.staff(g.provider_id),
    )
    assert response.status_code == 200, response.text
    return g, programme_id, guardian


async def submitted(w: World) -> tuple[Groups, UUID, str, UUID]:
    """October marked and submitted: (groups, programme, timesheet id, guardian)."""
    g, programme_id, guardian = await marked(w)
    response = await w.client.post(
        f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}/submit", json={}, headers=w.tokens.staff(g.provider_id)
    )
    assert response.status_code == 200 and response.json()["submitted"] == 1, response.text
    timesheet_id = await w.value(
        "SELECT id::text FROM timesheet WHERE programme_id = $1 AND period = $2", programme_id, OCTOBER
    )
    return g, programme_id, timesheet_id, guardian


DISPUTE = {"comment": "ill", "sessions": [{"date": "2026-10-05", "claim": "absent"}]}


async def disputed(w: World) -> tuple[Groups, str, str, UUID]:
    g, _, timesheet_id, guardian = await submitted(w)
    response = await w.client.post(
        f"/v1/timesheets/{timesheet_id}/dispute", json=DISPUTE, headers=w.tokens.parent(guardian)
    )
    assert response.status_code == 201, response.text
    return g, timesheet_id, response.json()["dispute_id"], guardian


async def flagged(w: World) -> str:
    """A risk flag: the same coach marked in two districts at the same hour, raised by an administrator's scan."""
    g = groups(w)
    coach, other = uuid4(), uuid4()
    first = await g.programme(coach_ids=[coach])
    second = await g.programme(provider_id=other, district_code="nura", coach_ids=[coach])
    await g.enrol(first)
    await g.enrol(second, provider_id=other, district_code="nura")
    for programme_id, provider in ((first, g.provider_id), (second, other)):
        base = f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}"
        staff = w.tokens.staff(provider)
        assert (await w.client.put(f"{base}/marks", json={"all_scheduled": "attended"}, headers=staff)).is_success
        assert (await w.client.post(f"{base}/submit", json={}, headers=staff)).is_success
    scanned = await w.client.post("/v1/risk-flags/scan", params={"period": OCTOBER}, headers=w.tokens.administrator())
    assert scanned.status_code == 200, scanned.text
    flag = await w.value(
        "SELECT id::text FROM risk_flag WHERE subject_id = $1 AND status = 'open' ORDER BY raised_at DESC LIMIT 1",
        str(coach),
    )
    assert flag, "no risk flag raised"
    return str(flag)


# --- factories ----------------------------------------------------------------------------------------------


async def sheet(w: World) -> Case:
    g, programme_id, _, _ = await group(w)
    return Case(
        path={"programme_id": programme_id, "period": OCTOBER},
        owners={"own_staff": w.tokens.staff(g.provider_id), **overseers(w)},
        body={"all_scheduled": "attended"},
    )


async def sheet_to_submit(w: World) -> Case:
    g, programme_id, _ = await marked(w)
    return Case(
        path={"programme_id": programme_id, "provider_id": g.provider_id, "period": OCTOBER},
        owners={"own_staff": w.tokens.staff(g.provider_id)},
        body={},
        marker=None,
    )


async def late_permit(w: World) -> Case:
    _, programme_id, _, _ = await group(w)
    return Case(path={"programme_id": programme_id, "period": OCTOBER}, owners=overseers(w), body={"reason": "flood"})


async def timesheet(w: World) -> Case:
    g, _, timesheet_id, guardian = await submitted(w)
    return Case(
        path={"timesheet_id": timesheet_id},
        owners={"guardian": w.tokens.parent(guardian), "own_staff": w.tokens.staff(g.provider_id), **overseers(w)},
        body=DISPUTE,
    )


async def timesheet_list(w: World) -> Case:
    g, programme_id, timesheet_id, guardian = await submitted(w)
    return Case(
        path={},
        query={"programme_id": programme_id},
        owners={"guardian": w.tokens.parent(guardian), "own_staff": w.tokens.staff(g.provider_id), **overseers(w)},
        marker=timesheet_id,
    )


async def confirm_many(w: World) -> Case:
    _, _, timesheet_id, guardian = await submitted(w)
    return Case(path={}, owners={"guardian": w.tokens.parent(guardian)}, body={"timesheet_ids": [timesheet_id]})


async def payable(w: World) -> Case:
    _, _, timesheet_id, guardian = await submitted(w)
    confirmed = await w.client.post(f"/v1/timesheets/{timesheet_id}/confirm", headers=w.tokens.parent(guardian))
    assert confirmed.status_code == 200, confirmed.text
    return Case(path={}, query={"region_code": "astana"}, owners=overseers(w), marker=timesheet_id)


async def dispute(w: World) -> Case:
    _, _, dispute_id, _ = await disputed(w)
    return Case(
        path={"dispute_id": dispute_id},
        owners=overseers(w),
        body={"rulings": [{"date": "2026-10-05", "ruling": "provider_upheld"}], "comment": "checked"},
    )


async def risk_flag(w: World) -> Case:
    flag = await flagged(w)
    return Case(path={"flag_id": flag}, owners=overseers(w), body={"outcome": "dismissed", "note": "checked"})


async def risk_flags(w: World) -> Case:
    flag = await flagged(w)
    return Case(path={}, query={"region_code": "astana"}, owners=overseers(w), marker=flag)


async def scan(w: World) -> Case:
    return Case(
        path={}, query={"region_code": "astana", "period": OCTOBER}, owners={"administrator": w.tokens.administrator()}
    )


async def region(w: World) -> Case:
    return Case(path={"code": "astana"}, owners=overseers(w), body={"note": "announced"})


async def region_rules(w: World) -> Case:
    return Case(path={"code": "astana"}, owners={"administrator": w.tokens.administrator()}, body={})


# --- the matrix ---------------------------------------------------------------------------------------------

SHEET = "/v1/programmes/{programme_id}/timesheets/{period}"
ENTRIES = [
    Entry("GET", SHEET, sheet, owners=("own_staff", "region_operator", "administrator")),
    Entry("PUT", SHEET + "/marks", sheet, owners=("own_staff",)),
    Entry("POST", SHEET + "/submit", sheet_to_submit, owners=("own_staff",)),
    Entry("POST", "/v1/providers/{provider_id}/timesheets/{period}/submit", sheet_to_submit, owners=("own_staff",)),
    Entry("POST", SHEET + "/late-submission", late_permit, owners=("region_operator", "administrator")),
    Entry(
        "GET",
        "/v1/timesheets/{timesheet_id}",
        timesheet,
        owners=("guardian", "own_staff", "region_operator", "administrator"),
    ),
    Entry(
        "GET",
        "/v1/timesheets",
        timesheet_list,
        owners=("guardian", "own_staff", "region_operator", "administrator"),
        listing=True,
    ),
    Entry("POST", "/v1/timesheets/{timesheet_id}/confirm", timesheet, owners=("guardian",)),
    Entry("POST", "/v1/timesheets/confirm", confirm_many, owners=("guardian",), note="ids in the body"),
    Entry("POST", "/v1/timesheets/{timesheet_id}/dispute", timesheet, owners=("guardian",)),
    Entry("GET", "/v1/timesheets/payable", payable, owners=("region_operator", "administrator"), listing=True),
    Entry("POST", "/v1/disputes/{dispute_id}/resolve", dispute, owners=("region_operator", "administrator")),
    Entry("GET", "/v1/risk-flags", risk_flags, owners=("region_operator", "administrator"), listing=True),
    Entry("GET", "/v1/risk-flags/{flag_id}", risk_flag, owners=("region_operator", "administrator")),
    Entry("POST", "/v1/risk-flags/{flag_id}/review", risk_flag, owners=("region_operator", "administrator")),
    Entry(
        "POST",
        "/v1/risk-flags/scan",
        scan,
        owners=("administrator",),
        allowed={"ops": "ops run the risk scan on demand (it changes no object of a tenant)"},
    ),
    Entry("POST", "/v1/regions/{code}/inspections", region, owners=("region_operator", "administrator")),
    Entry("GET", "/v1/regions/{code}/inspections", region, owners=("region_operator", "administrator")),
    Entry("PUT", "/v1/regions/{code}/attendance-rules", region_rules, owners=("administrator",)),
]
PUBLIC = [
    Public("GET", "/v1/regions/{code}/current-period", "the region's calendar month: published configuration"),
    Public("GET", "/v1/regions/{code}/attendance-rules", "the region's payable rules: published configuration"),
]


async def test_every_operation_with_an_id_has_a_matrix_entry(world: World) -> None:
    assert coverage_problems(world.openapi, ENTRIES, PUBLIC) == []


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
async def test_foreign_roles_are_refused_and_owners_succeed(world: World, entry: Entry) -> None:
    await check(world, entry)
