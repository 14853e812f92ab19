"""What a new user tripped over in registration (issue 14): the wrong field blamed, a code message that does not
say what it approves, a re-registration in another region answered with the old data."""

from __future__ import annotations

import uuid

import jwt
import pytest

from .test_children_api import CHILD_IIN, parent_headers, scalar
from .test_people_and_identity import ADULT_IIN, auth, register_person, registry_db

pytestmark = pytest.mark.component
__all__ = ["registry_db"]
BAD_CHECK_DIGIT = CHILD_IIN[:-1] + str((int(CHILD_IIN[-1]) + 1) % 10)


def sent(client) -> list[tuple[uuid.UUID, str]]:
    return client._transport.app.state.registry.sms.sent


async def test_a_bad_child_iin_in_assisted_registration_blames_iin(registry_db, api_client, token):
    operator = auth(token("operator", scope={"region": "astana"}))
    body = {"parent_iin": ADULT_IIN, "iin": BAD_CHECK_DIGIT, "region_code": "astana", "district_code": "yesil"}
    async with api_client("registry", registry_db) as client:
        await register_person(client)
        refused = await client.post("/v1/assisted/children", json=body, headers=operator)
        bad_parent = await client.post(
            "/v1/assisted/children", json={**body, "iin": CHILD_IIN, "parent_iin": "900101300018"}, headers=operator
        )
    assert refused.status_code == 422, refused.text
    assert (refused.json()["errors"][0]["field"], refused.json()["errors"][0]["type"]) == ("iin", "iin_checksum")
    assert bad_parent.status_code == 422 and bad_parent.json()["errors"][0]["field"] == "parent_iin"
    assert await scalar(registry_db, "select count(*) from assisted_change") == 0


async def test_the_assisted_code_message_says_who_asks_where_and_for_which_child(registry_db, api_client, token):
    point = "PSC Yesil, Kabanbay Batyr 56"
    operator = auth(token("operator", scope={"region": "astana", "consultation_point": point}))
    body = {"parent_iin": ADULT_IIN, "iin": CHILD_IIN, "region_code": "astana", "district_code": "yesil"}
    async with api_client("registry", registry_db) as client:
        await register_person(client)
        login = await client.post("/v1/auth/otp/request", json={"iin": ADULT_IIN})
        login_text = sent(client)[-1][1]
        started = await client.post("/v1/assisted/children", json=body, headers=operator)
        assisted_text = sent(client)[-1][1]
    assert login.status_code == 202 and started.status_code == 202, started.text
    assert assisted_text != login_text and assisted_text.startswith("Qosym code: ")
    assert point in assisted_text and "operator" in assisted_text
    assert "05.09.2018" in assisted_text and "girl" in assisted_text  # the child, by birth date and sex
    assert "register" in assisted_text and "yesil" in assisted_text
    assert CHILD_IIN not in assisted_text and ADULT_IIN not in assisted_text


async def test_re_registering_a_child_in_another_place_is_a_conflict_pointing_to_the_move(
    registry_db, api_client, token
):
    body = {"iin": CHILD_IIN, "region_code": "astana", "district_code": "yesil"}
    async with api_client("registry", registry_db) as client:
        headers = await parent_headers(client, token)
        created = await client.post("/v1/children", json=body, headers=headers)
        same = await client.post("/v1/children", json=body, headers=headers)
        region = await client.post("/v1/children", json={**body, "region_code": "almaty"}, headers=headers)
        district = await client.post("/v1/children", json={**body, "district_code": "nura"}, headers=headers)
    assert created.status_code == 201 and same.status_code == 200
    child_id = created.json()["id"]
    for answer, field in ((region, "region_code"), (district, "district_code")):
        assert answer.status_code == 409, answer.text
        assert answer.json()["errors"][0]["field"] == field
        assert f"PATCH /v1/children/{child_id}" in answer.json()["detail"]
    assert await scalar(registry_db, "select region_code || '/' || district_code from child") == "astana/yesil"


PNG = b"\x89PNG\r\n\x1a\n" + b"<html><script>alert(1)</script></html>"


async def child_with_claim(client, token) -> tuple[dict[str, str], str, str]:
    """A guardian, their child in astana/yesil and a declared orphan claim with a PNG: (headers, child id, claim id)."""
    headers = await parent_headers(client, token)
    child = await client.post(
        "/v1/children", json={"iin": CHILD_IIN, "region_code": "astana", "district_code": "yesil"}, headers=headers
    )
    assert child.status_code == 201, child.text
    claim = await client.post(
        f"/v1/children/{child.json()['id']}/categories",
        data={"code": "orphan"},
        files={"file": ("scan.png", PNG, "image/png")},
        headers=headers,
    )
    assert claim.status_code == 201, claim.text
    return headers, child.json()["id"], claim.json()["id"]


async def test_the_state_registry_check_reports_a_verified_claim_as_verified(registry_db, api_client, token, tmp_path):
    registry_file = tmp_path / "state-registry.json"
    registry_file.write_text("{}")  # the state registry does not confirm
    operator = auth(token("operator", scope={"region": "astana"}))
    async with api_client(
        "registry", registry_db, evidence_dir=tmp_path / "evidence", state_registry_file=registry_file
    ) as client:
        headers, child_id, claim = await child_with_claim(client, token)
        declared = await client.post(f"/v1/categories/{claim}/check", headers=operator)
        verified = await client.post(
            f"/v1/categories/{claim}/verify", json={"valid_until": "2030-06-30"}, headers=operator
        )
        checked = await client.post(f"/v1/categories/{claim}/check", headers=operator)
        shown = await client.get(f"/v1/children/{child_id}/categories", headers=headers)
    assert declared.json()["status"] == "declared" and declared.json()["confirmed"] is False
    assert verified.status_code == 200, verified.text
    assert checked.status_code == 200, checked.text
    assert checked.json()["status"] == shown.json()["items"][0]["status"] == "verified"
    assert checked.json()["valid_until"] == "2030-06-30"


async def test_a_decided_claim_is_not_decided_again_and_an_amendment_keeps_the_history(
    registry_db, api_client, token, tmp_path
):
    operator = auth(token("operator", scope={"region": "astana"}))
    async with api_client("registry", registry_db, evidence_dir=tmp_path) as client:
        headers, child_id, claim = await child_with_claim(client, token)
        first = await client.post(
            f"/v1/categories/{claim}/verify", json={"valid_until": "2030-06-30"}, headers=operator
        )
        again = await client.post(f"/v1/categories/{claim}/verify", json={}, headers=operator)
        reject = await client.post(f"/v1/categories/{claim}/reject", json={}, headers=operator)
        kept = await client.get(f"/v1/children/{child_id}/categories", headers=headers)
        implicit = await client.post(f"/v1/categories/{claim}/amend", json={"reason": "typo"}, headers=operator)
        amended = await client.post(
            f"/v1/categories/{claim}/amend",
            json={"valid_from": None, "valid_until": "2029-12-31", "reason": "the certificate ends earlier"},
            headers=operator,
        )
        foreign = await client.post(
            f"/v1/categories/{claim}/amend",
            json={"valid_from": None, "valid_until": None, "reason": "x"},
            headers=auth(token("operator", scope={"region": "almaty"})),
        )
        after = await client.get(f"/v1/children/{child_id}/categories", headers=headers)
    assert first.status_code == 200
    assert again.status_code == 409 and reject.status_code == 409, again.text
    assert kept.json()["items"][0]["valid_until"] == "2030-06-30"
    assert implicit.status_code == 422  # the dates must be given explicitly
    assert amended.status_code == 200, amended.text
    assert foreign.status_code == 404
    assert after.json()["items"][0]["valid_until"] == "2029-12-31" and after.json()["items"][0]["status"] == "verified"
    previous = await scalar(
        registry_db, "select data->'previous'->>'valid_until' from audit_log where action = 'category.amended'"
    )
    assert previous == "2030-06-30"
    published = await scalar(
        registry_db,
        "select count(*) from outbox where event_type = 'registry.ChildCategoriesVerified'",
    )
    assert published == 2  # the verification and the amendment


async def test_the_childs_operator_and_guardian_open_the_evidence_and_nobody_else(
    registry_db, api_client, token, tmp_path
):
    operator_id = str(uuid.uuid4())
    operator = auth(token("operator", operator_id, scope={"region": "astana"}))
    async with api_client("registry", registry_db, evidence_dir=tmp_path) as client:
        headers, _child_id, claim = await child_with_claim(client, token)
        opened = await client.get(f"/v1/categories/{claim}/evidence", headers=operator)
        by_guardian = await client.get(f"/v1/categories/{claim}/evidence", headers=headers)
        refused = {
            "operator of another region": await client.get(
                f"/v1/categories/{claim}/evidence", headers=auth(token("operator", scope={"region": "almaty"}))
            ),
            "operator of another district": await client.get(
                f"/v1/categories/{claim}/evidence",
                headers=auth(token("operator", scope={"region": "astana", "district": "nura"})),
            ),
            "operator without a region": await client.get(
                f"/v1/categories/{claim}/evidence", headers=auth(token("operator"))
            ),
            "another parent": await client.get(
                f"/v1/categories/{claim}/evidence", headers=await parent_headers(client, token)
            ),
            "no such claim": await client.get(f"/v1/categories/{uuid.uuid4()}/evidence", headers=operator),
        }
        provider_staff = await client.get(
            f"/v1/categories/{claim}/evidence",
            headers=auth(token("provider_staff", scope={"provider": str(uuid.uuid4())})),
        )
        anonymous = await client.get(f"/v1/categories/{claim}/evidence")
    assert opened.status_code == 200, opened.text
    assert opened.content == PNG and by_guardian.content == PNG
    assert opened.headers["content-type"] == "image/png"
    assert opened.headers["content-disposition"].startswith("attachment;")
    assert opened.headers["x-content-type-options"] == "nosniff"
    assert opened.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in opened.headers["content-security-policy"]
    for who, answer in refused.items():
        # an operator token naming no region is refused by the chassis before the route (fails closed: 403)
        assert answer.status_code == (403 if who == "operator without a region" else 404), who
        assert PNG not in answer.content
    assert provider_staff.status_code == 403 and anonymous.status_code == 401  # a wrong role, no token
    opened_by = await scalar(
        registry_db,
        "select string_agg(actor, ',' order by id) from audit_log where action = 'evidence.opened'",
    )
    guardian = headers["Authorization"].removeprefix("Bearer ")
    guardian_id = jwt.decode(guardian, options={"verify_signature": False})["sub"]
    assert opened_by == f"operator:{operator_id},parent:{guardian_id}"  # each opening, and only those that opened
    assert (
        await scalar(
            registry_db,
            f"select count(*) from audit_log where action = 'evidence.opened' and data->>'claim_id' = '{claim}'",
        )
        == 2
    )


async def test_an_assisted_move_to_a_place_that_does_not_exist_sends_no_code(registry_db, api_client, token):
    operator = auth(token("operator", scope={"region": "astana"}))
    async with api_client("registry", registry_db) as client:
        parent = await register_person(client)
        child = await client.post(
            "/v1/children",
            json={"iin": CHILD_IIN, "region_code": "astana", "district_code": "yesil"},
            headers=auth(token("parent", parent["id"])),
        )
        texts = len(sent(client))
        nowhere = await client.post(
            f"/v1/assisted/children/{child.json()['id']}/move",
            json={"parent_iin": ADULT_IIN, "region_code": "nowhere"},
            headers=operator,
        )
        no_district = await client.post(
            f"/v1/assisted/children/{child.json()['id']}/move",
            json={"parent_iin": ADULT_IIN, "district_code": "atlantis"},
            headers=operator,
        )
        assert len(sent(client)) == texts
    assert nowhere.status_code == 422 and nowhere.json()["errors"][0]["field"] == "region_code"
    assert no_district.status_code == 422 and no_district.json()["errors"][0]["field"] == "district_code"
    assert await scalar(registry_db, "select count(*) from assisted_change") == 0
