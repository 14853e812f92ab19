"""Complaints: guardians of children enrolled (now or before) file them; operators of the region resolve them."""

from uuid import uuid4

import pytest

from .support import auth, child_of, confirmed_enrolment, fetch, programme, verified_provider

pytestmark = pytest.mark.component
TEXT = "The coach left the children alone for half an hour."


async def test_a_guardian_complains_and_an_operator_of_the_region_resolves(
    service_db, consumer, api_client, token
) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        c = await consumer("catalog", url)
        provider_id, staff = await verified_provider(client, token)
        prog = await programme(client, provider_id, staff)
        enrolment, parent = await confirmed_enrolment(client, c, token, prog)
        await client.post(f"/v1/enrolments/{enrolment['id']}/end", json={"reason": "left"}, headers=parent)
        body = {"child_id": enrolment["child_id"], "programme_id": prog["id"], "category": "safety", "text": TEXT}
        filed = await client.post("/v1/complaints", json=body, headers=parent)  # enrolled before: still may complain
        complaint_id = filed.json()["id"]
        mine = await client.get("/v1/complaints", headers=parent)

        operator = auth(token("operator", scope={"region": "astana", "district": "yesil"}))
        elsewhere = auth(token("operator", scope={"region": "almaty"}))
        other_district = auth(token("operator", scope={"region": "astana", "district": "almaty_district"}))
        region_list = await client.get("/v1/complaints", params={"status": "open"}, headers=operator)
        foreign_list = await client.get("/v1/complaints", headers=elsewhere)
        foreign_get = await client.get(f"/v1/complaints/{complaint_id}", headers=elsewhere)
        foreign_resolve = await client.post(
            f"/v1/complaints/{complaint_id}/resolve",
            json={"outcome": "upheld", "resolution": "x"},
            headers=other_district,
        )
        by_parent = await client.post(
            f"/v1/complaints/{complaint_id}/resolve", json={"outcome": "upheld", "resolution": "x"}, headers=parent
        )
        resolved = await client.post(
            f"/v1/complaints/{complaint_id}/resolve",
            json={"outcome": "upheld", "resolution": "The provider was warned; an inspection is scheduled."},
            headers=operator,
        )
        twice = await client.post(
            f"/v1/complaints/{complaint_id}/resolve", json={"outcome": "rejected", "resolution": "x"}, headers=operator
        )
        seen = await client.get(f"/v1/complaints/{complaint_id}", headers=parent)
        open_left = await client.get("/v1/complaints", params={"status": "open"}, headers=operator)
        administrator = await client.get(
            "/v1/complaints", params={"region_code": "astana"}, headers=auth(token("administrator"))
        )
    assert filed.status_code == 201, filed.text
    assert (filed.json()["status"], filed.json()["category"], filed.json()["region_code"]) == (
        "open",
        "safety",
        "astana",
    )
    assert [x["id"] for x in mine.json()["items"]] == [complaint_id]
    assert region_list.json()["total"] == 1
    assert foreign_list.json() == {"items": [], "total": 0, "limit": 20, "offset": 0}
    assert foreign_get.status_code == 404 and foreign_resolve.status_code == 404
    assert by_parent.status_code == 403
    assert resolved.status_code == 200, resolved.text
    assert twice.status_code == 409
    assert (seen.json()["status"], seen.json()["outcome"]) == ("resolved", "upheld")
    assert seen.json()["resolution"].startswith("The provider was warned")
    assert open_left.json()["total"] == 0
    assert administrator.json()["total"] == 1


async def test_only_a_guardian_of_a_child_who_was_enrolled_may_complain(
    service_db, consumer, api_client, token
) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        c = await consumer("catalog", url)
        provider_id, staff = await verified_provider(client, token)
        prog = await programme(client, provider_id, staff)
        enrolment, parent = await confirmed_enrolment(client, c, token, prog)
        child_id, guardian_id = await child_of(c)
        waiting_parent = auth(token("parent", subject=str(guardian_id)))
        await client.post(
            "/v1/enrolments", json={"child_id": str(child_id), "programme_id": prog["id"]}, headers=waiting_parent
        )  # requested only, never confirmed
        stranger = auth(token("parent", subject=str(uuid4())))

        def body(**kw):
            return {
                "child_id": enrolment["child_id"],
                "programme_id": prog["id"],
                "category": "billing",
                "text": TEXT,
                **kw,
            }

        not_enrolled = await client.post("/v1/complaints", json=body(child_id=str(child_id)), headers=waiting_parent)
        foreign_child = await client.post("/v1/complaints", json=body(), headers=stranger)
        no_programme = await client.post("/v1/complaints", json=body(programme_id=str(uuid4())), headers=parent)
        by_provider = await client.post("/v1/complaints", json=body(), headers=staff)
        bad_category = await client.post("/v1/complaints", json=body(category="rude"), headers=parent)
        too_short = await client.post("/v1/complaints", json=body(text="bad"), headers=parent)
        unknown_field = await client.post("/v1/complaints", json=body(severity=5), headers=parent)
        filed = await client.post("/v1/complaints", json=body(), headers=parent)
        stranger_get = await client.get(f"/v1/complaints/{filed.json()['id']}", headers=stranger)
        stranger_list = await client.get("/v1/complaints", headers=stranger)
        provider_list = await client.get("/v1/complaints", headers=staff)
        bad_filter = await client.get("/v1/complaints", params={"status": "closed"}, headers=parent)
    assert not_enrolled.status_code == 422 and not_enrolled.json()["errors"][0]["field"] == "programme_id"
    assert foreign_child.status_code == 404
    assert no_programme.status_code == 404
    assert by_provider.status_code == 403
    assert bad_category.status_code == 422 and bad_category.json()["errors"][0]["field"] == "category"
    assert too_short.status_code == 422 and too_short.json()["errors"][0]["field"] == "text"
    assert unknown_field.status_code == 422 and unknown_field.json()["errors"][0]["field"] == "severity"
    assert filed.status_code == 201
    assert stranger_get.status_code == 404
    assert stranger_list.json()["total"] == 0
    assert provider_list.status_code == 403
    assert bad_filter.status_code == 422 and bad_filter.json()["errors"][0]["field"] == "status"
    rows = await fetch(url, "SELECT count(*) AS n FROM complaint")
    assert rows[0]["n"] == 1
