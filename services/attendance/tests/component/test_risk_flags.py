"""Each risk rule, with a case that fires and one that does not; flags carry their evidence, are raised once per
rule, subject and month (with a RiskFlagRaised event), and are listed for operators of the region."""

from __future__ import annotations

import json
from datetime import datetime, time
from uuid import UUID, uuid4

import pytest

from attendance.domain.risk import RiskThresholds
from attendance.service_layer import confirmations, risks
from qosym_chassis.db import make_engine, make_session_factory
from qosym_contracts.catalog import ProgrammeSchedule

from .support import OCTOBER, World, api_at, auth, deps_of, fetch, local, outbox, world

pytestmark = pytest.mark.component
NOV_2 = local(2026, 11, 2, 10)
AFTER = {"2026-08": local(2026, 9, 2, 10), "2026-09": local(2026, 10, 2, 10), OCTOBER: NOV_2}


def at(weekday: int, start: time, end: time) -> list[ProgrammeSchedule]:
    return [ProgrammeSchedule(weekday=weekday, start=start, end=end)]


async def submit_month(
    api_client,
    token,
    w: World,
    programme_id: UUID,
    period: str = OCTOBER,
    marks=None,
    provider_id=None,
    all_scheduled: str | None = "attended",
) -> None:
    staff = auth(token("provider_staff", scope={"provider": str(provider_id or w.provider_id)}))
    base = f"/v1/programmes/{programme_id}/timesheets/{period}"
    async with api_at(api_client, w.url, AFTER[period]) as client:
        marked = await client.put(
            f"{base}/marks", json={"all_scheduled": all_scheduled, "marks": marks or []}, headers=staff
        )
        assert marked.status_code == 200, marked.text
        submitted = await client.post(f"{base}/submit", json={}, headers=staff)
        assert submitted.status_code == 200 and submitted.json()["incomplete_count"] == 0, submitted.text


async def scan(w: World, period: str = OCTOBER, now: datetime = NOV_2, **limits: int) -> dict[str, int]:
    engine = make_engine(w.url, application_name="test")
    try:
        return await risks.scan(
            deps_of(make_session_factory(engine)), now, period=period, thresholds=RiskThresholds(**limits)
        )
    finally:
        await engine.dispose()


async def flags(w: World) -> list[dict]:
    rows = await fetch(w.url, "SELECT rule, subject_type, subject_id, severity, summary, evidence FROM risk_flag")
    return [{**dict(r), "evidence": json.loads(r["evidence"])} for r in rows]


# --- the same coach in two places at once ----------------------------------------------------------------------


@pytest.mark.parametrize("overlapping", [True, False])
async def test_a_coach_marked_in_two_districts_at_the_same_hour(
    service_db, consumer, api_client, token, overlapping
) -> None:
    w = await world(service_db, consumer)
    coach, other_provider = uuid4(), uuid4()
    yesil = await w.programme(coach_ids=[coach], schedule=at(1, time(16), time(17, 30)))
    start = time(16, 30) if overlapping else time(18)
    nura = await w.programme(
        provider_id=other_provider,
        district_code="nura",
        coach_ids=[coach, uuid4()],
        schedule=at(1, start, time(start.hour + 1, start.minute)),
    )
    await w.enrol(yesil)
    await w.enrol(nura, provider_id=other_provider, district_code="nura")
    await submit_month(api_client, token, w, yesil)
    await submit_month(api_client, token, w, nura, provider_id=other_provider)

    raised = await scan(w)

    if not overlapping:
        assert raised["coach_double_booked"] == 0 and await flags(w) == []
        return
    assert raised["coach_double_booked"] == 1
    (flag,) = await flags(w)
    assert (flag["rule"], flag["subject_type"], flag["subject_id"], flag["severity"]) == (
        "coach_double_booked",
        "staff",
        coach,
        "high",
    )
    assert len(flag["evidence"]["clashes"]) == 3  # Mondays 5, 12, 19 (the 26th is a closure day)
    assert "yesil/nura" in flag["summary"] or "nura/yesil" in flag["summary"]
    (event,) = await outbox(w.url, "attendance.RiskFlagRaised")
    assert (event["rule"], event["subject_id"], event["period"]) == ("coach_double_booked", str(coach), OCTOBER)
    assert await scan(w) == dict.fromkeys(raised, 0)  # raised once per rule, subject and month
    assert len(await outbox(w.url, "attendance.RiskFlagRaised")) == 1


# --- a facility over its capacity --------------------------------------------------------------------------


@pytest.mark.parametrize(("capacity", "fires"), [(5, True), (10, False)])
async def test_more_children_present_than_the_facility_holds(
    service_db, consumer, api_client, token, capacity, fires
) -> None:
    w = await world(service_db, consumer)
    facility = uuid4()
    a = await w.programme(facility_id=facility, facility_capacity=capacity, schedule=at(3, time(16), time(17)))
    b = await w.programme(facility_id=facility, facility_capacity=capacity, schedule=at(3, time(16, 30), time(17, 30)))
    for programme_id, n in ((a, 4), (b, 3)):
        for _ in range(n):
            await w.enrol(programme_id)
        await submit_month(api_client, token, w, programme_id)

    raised = await scan(w)

    assert raised["facility_over_capacity"] == (1 if fires else 0)
    if fires:
        (flag,) = await flags(w)
        assert (flag["subject_id"], flag["evidence"]["capacity"]) == (facility, 5)
        assert max(s["present"] for s in flag["evidence"]["sessions"]) == 7


# --- attendance on closure days ------------------------------------------------------------------------------


@pytest.mark.parametrize("on_closure", [True, False])
async def test_attendance_marked_on_a_closure_day(service_db, consumer, api_client, token, on_closure) -> None:
    w = await world(service_db, consumer)
    programme_id = await w.programme()
    enrolment_id, _, _ = await w.enrol(programme_id)
    marks = [{"enrolment_id": str(enrolment_id), "date": "2026-10-26", "status": "attended", "reason": "tournament"}]
    await submit_month(api_client, token, w, programme_id, marks=marks if on_closure else [])

    raised = await scan(w)

    assert raised["closure_day_attendance"] == (1 if on_closure else 0)
    if on_closure:
        (flag,) = await flags(w)
        assert flag["subject_id"] == programme_id
        assert [(s["date"], s["reason"]) for s in flag["evidence"]["sessions"]] == [("2026-10-26", "tournament")]


# --- identical patterns for months -------------------------------------------------------------------------------


@pytest.mark.parametrize("varied", [False, True])
async def test_a_whole_group_marked_identically_for_three_months(
    service_db, consumer, api_client, token, varied
) -> None:
    w = await world(service_db, consumer)
    programme_id = await w.programme()
    kids = [await w.enrol(programme_id, since=local(2026, 7, 20)) for _ in range(5)]
    for period in ("2026-08", "2026-09", OCTOBER):
        marks = []
        if varied and period == "2026-09":
            marks = [{"enrolment_id": str(kids[0][0]), "date": "2026-09-09", "status": "absent"}]
        await submit_month(api_client, token, w, programme_id, period=period, marks=marks)

    raised = await scan(w)

    assert raised["identical_patterns"] == (0 if varied else 1)
    if not varied:
        (flag,) = await flags(w)
        assert [m["period"] for m in flag["evidence"]["months"]] == ["2026-08", "2026-09", OCTOBER]
        assert {m["children"] for m in flag["evidence"]["months"]} == {5}


# --- guardians who never confirm -----------------------------------------------------------------------------------


@pytest.mark.parametrize("confirmed_once", [False, True])
async def test_a_child_whose_guardians_never_answer(service_db, consumer, api_client, token, confirmed_once) -> None:
    w = await world(service_db, consumer)
    programme_id = await w.programme()
    _, child_id, guardian = await w.enrol(programme_id, since=local(2026, 8, 20))
    engine = make_engine(w.url, application_name="test")
    sessions = make_session_factory(engine)
    try:
        for period, deadline in (("2026-09", local(2026, 10, 7)), (OCTOBER, local(2026, 11, 7))):
            await submit_month(api_client, token, w, programme_id, period=period)
            if confirmed_once and period == "2026-09":
                async with api_at(api_client, w.url, AFTER[period]) as client:
                    mine = (
                        await client.get("/v1/timesheets?period=2026-09", headers=auth(token("parent", str(guardian))))
                    ).json()
                    confirmed = await client.post(
                        f"/v1/timesheets/{mine['items'][0]['id']}/confirm", headers=auth(token("parent", str(guardian)))
                    )
                    assert confirmed.status_code == 200
            await confirmations.close_windows(deps_of(sessions), deadline)
    finally:
        await engine.dispose()

    raised = await scan(w, now=local(2026, 11, 7))

    assert raised["guardian_never_confirms"] == (0 if confirmed_once else 1)
    if not confirmed_once:
        (flag,) = await flags(w)
        assert (flag["subject_type"], flag["subject_id"], flag["severity"]) == ("child", child_id, "low")
        assert sorted(flag["evidence"]["periods"]) == ["2026-09", OCTOBER]


# --- a child in two regions ------------------------------------------------------------------------------------


@pytest.mark.parametrize("two_regions", [True, False])
async def test_a_child_enrolled_and_submitted_in_two_regions(
    service_db, consumer, api_client, token, two_regions
) -> None:
    w = await world(service_db, consumer, "astana", "almaty")
    child_id, other = uuid4(), uuid4()
    astana = await w.programme()
    almaty = await w.programme(provider_id=other, region_code="almaty", district_code="bostandyk")
    await w.enrol(astana, child_id=child_id)
    if two_regions:
        await w.enrol(almaty, child_id=child_id, provider_id=other, region_code="almaty", district_code="bostandyk")
    else:
        await w.enrol(almaty, provider_id=other, region_code="almaty", district_code="bostandyk")
    await submit_month(api_client, token, w, astana)
    await submit_month(api_client, token, w, almaty, provider_id=other)

    raised = await scan(w)

    assert raised["enrolled_in_two_regions"] == (1 if two_regions else 0)
    if two_regions:
        (flag,) = await flags(w)
        assert flag["subject_id"] == child_id
        assert sorted(t["region_code"] for t in flag["evidence"]["timesheets"]) == ["almaty", "astana"]


# --- a drop after an inspection was announced ---------------------------------------------------------------------


@pytest.mark.parametrize("dropped", [True, False])
async def test_attendance_drops_after_an_inspection_is_announced(
    service_db, consumer, api_client, token, dropped
) -> None:
    w = await world(service_db, consumer)
    programme_id = await w.programme()
    kids = [await w.enrol(programme_id, since=local(2026, 8, 25)) for _ in range(5)]
    await submit_month(api_client, token, w, programme_id, period="2026-09")
    async with api_at(api_client, w.url, local(2026, 10, 15, 12)) as client:
        announced = await client.post(
            "/v1/regions/astana/inspections",
            json={"note": "prosecutor's check of sports sections", "district_code": "yesil"},
            headers=auth(token("operator", scope={"region": "astana"})),
        )
        assert announced.status_code == 201, announced.text
    after_notice = ["2026-10-19", "2026-10-21", "2026-10-28"]
    marks = (
        [{"enrolment_id": str(e), "date": d, "status": "absent"} for (e, _, _) in kids[1:] for d in after_notice]
        if dropped
        else []
    )
    await submit_month(api_client, token, w, programme_id, marks=marks)

    raised = await scan(w, inspection_min_sessions=10)

    assert raised["drop_after_inspection_notice"] == (1 if dropped else 0)
    if dropped:
        (flag,) = await flags(w)
        assert (flag["subject_type"], flag["subject_id"]) == ("provider", w.provider_id)
        assert flag["evidence"]["after"] == {"attended": 3, "marked": 15}


async def test_operators_list_the_flags_of_their_region_with_the_evidence(
    service_db, consumer, api_client, token
) -> None:
    w = await world(service_db, consumer)
    programme_id = await w.programme()
    enrolment_id, _, _ = await w.enrol(programme_id)
    marks = [{"enrolment_id": str(enrolment_id), "date": "2026-10-26", "status": "attended", "reason": "tournament"}]
    await submit_month(api_client, token, w, programme_id, marks=marks)
    async with api_at(api_client, w.url, NOV_2) as client:
        by_provider = await client.post("/v1/risk-flags/scan", headers=auth(token("provider_staff")))
        scanned = await client.post(f"/v1/risk-flags/scan?period={OCTOBER}", headers=auth(token("ops")))
        mine = await client.get("/v1/risk-flags", headers=auth(token("operator", scope={"region": "astana"})))
        foreign = await client.get(
            "/v1/risk-flags?region_code=astana", headers=auth(token("operator", scope={"region": "almaty"}))
        )
        as_parent = await client.get("/v1/risk-flags", headers=auth(token("parent")))
        flag_id = mine.json()["items"][0]["id"]
        foreign_one = await client.get(
            f"/v1/risk-flags/{flag_id}", headers=auth(token("operator", scope={"region": "almaty"}))
        )
        reviewed = await client.post(
            f"/v1/risk-flags/{flag_id}/review",
            json={"outcome": "dismissed", "note": "a registered tournament"},
            headers=auth(token("operator", "op-7", scope={"region": "astana"})),
        )
    assert by_provider.status_code == 403
    assert scanned.json()["raised"]["closure_day_attendance"] == 1
    (item,) = mine.json()["items"]
    assert item["rule"] == "closure_day_attendance" and item["evidence"]["sessions"][0]["reason"] == "tournament"
    assert foreign.status_code == 404 and foreign_one.status_code == 404
    assert as_parent.status_code == 403
    assert (reviewed.json()["status"], reviewed.json()["reviewed_by"]) == ("dismissed", "operator:op-7")
