"""A person's own preferences: consent keeps an address, withdrawing it deletes it; bad input changes nothing."""

from uuid import uuid4

import pytest

from .support import bearer, rows, value

pytestmark = pytest.mark.component
FULL = {
    "language": "ru",
    "timezone": "Asia/Almaty",
    "email": {"address": "aigerim@example.kz", "consent": True},
    "phone": {"number": "+77011234567", "consent": True},
    "channels": {"default": ["email"], "voucher_awarded": ["email", "sms"]},
    "quiet_hours": {"start": "22:00", "end": "07:00"},
}


async def test_a_person_sets_and_reads_their_preferences(service_db, api_client, token) -> None:
    url = await service_db("notifications")
    person = uuid4()
    headers = bearer(token("parent", subject=str(person)))
    async with api_client("notifications", url) as client:
        before = await client.get("/v1/me/preferences", headers=headers)
        put = await client.put("/v1/me/preferences", json=FULL, headers=headers)
        after = await client.get("/v1/me/preferences", headers=headers)
        someone_else = await client.get("/v1/me/preferences", headers=bearer(token("parent", subject=str(uuid4()))))

    assert before.status_code == 200 and before.json()["email"] is None and before.json()["language"] is None
    assert put.status_code == 200 and put.json() == after.json()
    body = after.json()
    assert body["language"] == "ru" and body["timezone"] == "Asia/Almaty"
    assert body["email"]["address"] == "aigerim@example.kz" and body["email"]["consented_at"]
    assert body["phone"]["address"] == "+77011234567"
    assert body["channels"] == {"default": ["email"], "voucher_awarded": ["email", "sms"]}
    assert body["quiet_hours"] == {"start": "22:00:00", "end": "07:00:00"}
    assert someone_else.json()["email"] is None
    [stored] = await rows(url, "SELECT email_enc, phone_enc FROM preference WHERE person_id = $1", person)
    assert b"aigerim" not in stored["email_enc"] and b"7011234567" not in stored["phone_enc"]  # encrypted at rest


async def test_withdrawing_consent_deletes_the_address(service_db, api_client, token) -> None:
    url = await service_db("notifications")
    person = uuid4()
    headers = bearer(token("parent", subject=str(person)))
    async with api_client("notifications", url) as client:
        await client.put("/v1/me/preferences", json=FULL, headers=headers)
        withdrawn = await client.put(
            "/v1/me/preferences",
            json={**FULL, "email": {"consent": False}, "phone": {"number": "+77011234567", "consent": False}},
            headers=headers,
        )

    assert withdrawn.status_code == 200
    assert withdrawn.json()["email"] is None and withdrawn.json()["phone"] is None
    [stored] = await rows(
        url, "SELECT email_enc, phone_enc, email_consent_at FROM preference WHERE person_id = $1", person
    )
    assert stored == {"email_enc": None, "phone_enc": None, "email_consent_at": None}


async def test_a_staff_members_preferences_record_their_groups(service_db, api_client, token) -> None:
    url = await service_db("notifications")
    person, provider = uuid4(), uuid4()
    headers = bearer(token("provider_staff", subject=str(person), scope={"provider": str(provider)}))
    async with api_client("notifications", url) as client:
        response = await client.put("/v1/me/preferences", json={"language": "kk"}, headers=headers)

    assert response.status_code == 200
    assert await rows(url, "SELECT person_id, audience FROM audience_member") == [
        {"person_id": person, "audience": f"provider:{provider}"}
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"language": "de"}, "language"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"email": {"address": "not-an-address", "consent": True}}, "email.address"),
        ({"email": {"consent": True}}, "email"),
        ({"phone": {"number": "8 701 123", "consent": True}}, "phone.number"),
        ({"channels": {"voucher_won": ["email"]}}, "channels.voucher_won"),
        ({"channels": {"default": ["pigeon"]}}, "channels.default.0"),
        ({"quiet_hours": {"start": "25:00", "end": "07:00"}}, "quiet_hours.start"),
        ({"colour": "blue"}, "colour"),
    ],
)
async def test_bad_input_is_a_problem_naming_the_field_and_changes_nothing(
    service_db, api_client, token, change, field
) -> None:
    url = await service_db("notifications")
    headers = bearer(token("parent", subject=str(uuid4())))
    async with api_client("notifications", url) as client:
        response = await client.put("/v1/me/preferences", json={**FULL, **change}, headers=headers)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in {e["field"] for e in response.json()["errors"]}
    assert "not-an-address" not in response.text and "8 701 123" not in response.text  # values are never echoed
    assert await value(url, "SELECT count(*) FROM preference") == 0


async def test_preferences_need_a_token_of_a_person_with_an_inbox(service_db, api_client, token) -> None:
    url = await service_db("notifications")
    async with api_client("notifications", url) as client:
        anonymous = await client.put("/v1/me/preferences", json=FULL)
        auditor = await client.put("/v1/me/preferences", json=FULL, headers=bearer(token("auditor")))
        service_account = await client.get("/v1/me/preferences", headers=bearer(token("parent", subject="svc-7")))

    assert (anonymous.status_code, auditor.status_code, service_account.status_code) == (401, 403, 422)
    assert await value(url, "SELECT count(*) FROM preference") == 0
