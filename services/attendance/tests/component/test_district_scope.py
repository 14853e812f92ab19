"""A district's operator acts in their district only: an object of the region whose district is unknown or none
(a region-wide inspection, a risk flag) is never theirs to act on; they read it only when it is genuinely
region-wide (an inspection of the whole region), never when its district is merely unknown (a risk flag)."""

from __future__ import annotations

import pytest

from .support import OCTOBER, api_at, auth, fetch, local, world
from .test_risk_flags import NOV_2, submit_month

pytestmark = pytest.mark.component
INSPECTIONS = "/v1/regions/astana/inspections"


async def test_a_district_operator_never_announces_an_inspection_of_the_whole_region(
    service_db, consumer, api_client, token
) -> None:
    w = await world(service_db, consumer)
    region_operator = auth(token("operator", scope={"region": "astana"}))
    yesil = auth(token("operator", scope={"region": "astana", "district": "yesil"}))
    nura = auth(token("operator", scope={"region": "astana", "district": "nura"}))
    async with api_at(api_client, w.url, NOV_2) as client:
        refused = await client.post(INSPECTIONS, json={"note": "the whole region"}, headers=yesil)
        assert await fetch(w.url, "SELECT id FROM inspection") == []
        whole = await client.post(INSPECTIONS, json={"note": "the whole region"}, headers=region_operator)
        own = await client.post(INSPECTIONS, json={"note": "ours", "district_code": "yesil"}, headers=yesil)
        seen_by_yesil = await client.get(INSPECTIONS, headers=yesil)
        seen_by_nura = await client.get(INSPECTIONS, headers=nura)
        seen_by_region = await client.get(INSPECTIONS, headers=region_operator)
    assert refused.status_code == 404, refused.text
    assert whole.status_code == 201 and own.status_code == 201, (whole.text, own.text)
    assert seen_by_yesil.status_code == 200
    assert sorted(i["note"] for i in seen_by_yesil.json()["items"]) == ["ours", "the whole region"]
    assert seen_by_nura.status_code == 200
    assert [i["note"] for i in seen_by_nura.json()["items"]] == ["the whole region"]
    assert seen_by_region.json()["total"] == 2


async def test_a_district_operator_neither_reads_nor_reviews_a_risk_flag_of_no_known_district(
    service_db, consumer, api_client, token
) -> None:
    w = await world(service_db, consumer)
    programme_id = await w.programme(district_code="yesil")
    enrolment_id, _, _ = await w.enrol(programme_id)
    marks = [{"enrolment_id": str(enrolment_id), "date": "2026-10-26", "status": "attended", "reason": "tournament"}]
    await submit_month(api_client, token, w, programme_id, marks=marks)
    yesil = auth(token("operator", scope={"region": "astana", "district": "yesil"}))
    region_operator = auth(token("operator", scope={"region": "astana"}))
    async with api_at(api_client, w.url, NOV_2) as client:
        scanned = await client.post(f"/v1/risk-flags/scan?period={OCTOBER}", headers=auth(token("ops")))
        (flag_id,) = [r["id"] for r in await fetch(w.url, "SELECT id FROM risk_flag")]
        listed = await client.get("/v1/risk-flags", headers=yesil)
        one = await client.get(f"/v1/risk-flags/{flag_id}", headers=yesil)
        reviewed = await client.post(
            f"/v1/risk-flags/{flag_id}/review", json={"outcome": "dismissed", "note": "not ours"}, headers=yesil
        )
        by_region = await client.get(f"/v1/risk-flags/{flag_id}", headers=region_operator)
    assert scanned.json()["raised"]["closure_day_attendance"] == 1
    assert listed.status_code == 200 and listed.json()["items"] == []
    assert one.status_code == 404 and reviewed.status_code == 404, (one.text, reviewed.text)
    assert [r["status"] for r in await fetch(w.url, "SELECT status FROM risk_flag")] == ["open"]
    assert by_region.status_code == 200 and by_region.json()["status"] == "open"


async def test_a_district_operator_reads_the_payable_months_of_their_district_only(
    service_db, consumer, api_client, token
) -> None:
    w = await world(service_db, consumer)
    programme_id = await w.programme(district_code="yesil")
    _, _, guardian = await w.enrol(programme_id)
    await submit_month(api_client, token, w, programme_id)
    async with api_at(api_client, w.url, local(2026, 11, 3, 10)) as client:
        parent = auth(token("parent", str(guardian)))
        (sheet,) = (await client.get("/v1/timesheets", headers=parent)).json()["items"]
        confirmed = await client.post(f"/v1/timesheets/{sheet['id']}/confirm", headers=parent)
        yesil = await client.get(
            "/v1/timesheets/payable", headers=auth(token("operator", scope={"region": "astana", "district": "yesil"}))
        )
        nura = await client.get(
            "/v1/timesheets/payable", headers=auth(token("operator", scope={"region": "astana", "district": "nura"}))
        )
    assert confirmed.status_code == 200, confirmed.text
    assert [p["timesheet_id"] for p in yesil.json()["items"]] == [sheet["id"]]
    assert nura.status_code == 200 and nura.json()["items"] == []
