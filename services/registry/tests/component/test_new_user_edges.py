"""What a new user tripped over in registration (issue 14): the wrong field blamed, a code message that does not
say what it approves, a re-registration in another region answered with the old data."""

from __future__ import annotations

import uuid

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
