import asyncio
from uuid import UUID, uuid4

import pytest

from tests.support.events import child_registered, message

pytestmark = pytest.mark.component


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def inbox_of(service_db, consumer, guardian: UUID, children: int = 1) -> tuple[str, list[UUID]]:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    child_ids = []
    for _ in range(children):
        child_ids.append(uuid4())
        await c.deliver(message(child_registered(guardian, child_ids[-1])))
        await asyncio.sleep(0.01)  # distinct created_at, so "newest first" is observable
    return url, child_ids


async def test_a_parent_reads_their_inbox_newest_first(service_db, consumer, api_client, token) -> None:
    guardian = uuid4()
    url, children = await inbox_of(service_db, consumer, guardian, children=2)
    async with api_client("notifications", url) as client:
        response = await client.get("/v1/inbox", headers=bearer(token("parent", subject=str(guardian))))

    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 2
    assert [m["subject_id"] for m in body["items"]] == [str(children[1]), str(children[0])]
    newest = body["items"][0]
    assert newest["title"] == "Child registered · child 2 of 2"  # a parent of two: which one
    assert newest["kind"] == "child_registered"
    assert newest["payload"] == {"child_id": str(children[1]), "region_code": "astana", "district_code": "yesil"}
    assert newest["read_at"] is None
    assert newest["body"].startswith("Your child is registered")
    assert newest["seq"] > body["items"][1]["seq"]


async def test_the_inbox_is_paged(service_db, consumer, api_client, token) -> None:
    guardian = uuid4()
    url, children = await inbox_of(service_db, consumer, guardian, children=3)
    async with api_client("notifications", url) as client:
        response = await client.get(
            "/v1/inbox", params={"limit": 1, "offset": 2}, headers=bearer(token("parent", subject=str(guardian)))
        )

    body = response.json()
    assert (body["total"], body["limit"], body["offset"]) == (3, 1, 2)
    assert [m["subject_id"] for m in body["items"]] == [str(children[0])]


async def test_a_parent_never_sees_another_parents_messages(service_db, consumer, api_client, token) -> None:
    url, _ = await inbox_of(service_db, consumer, uuid4())
    async with api_client("notifications", url) as client:
        response = await client.get("/v1/inbox", headers=bearer(token("parent", subject=str(uuid4()))))

    assert response.status_code == 200
    assert response.json()["items"] == []


async def test_marking_a_message_read(service_db, consumer, api_client, token) -> None:
    guardian = uuid4()
    url, _ = await inbox_of(service_db, consumer, guardian)
    headers = bearer(token("parent", subject=str(guardian)))
    async with api_client("notifications", url) as client:
        message_id = (await client.get("/v1/inbox", headers=headers)).json()["items"][0]["id"]
        first = await client.post(f"/v1/inbox/{message_id}/read", headers=headers)
        again = await client.post(f"/v1/inbox/{message_id}/read", headers=headers)
        listed = (await client.get("/v1/inbox", headers=headers)).json()["items"][0]

    assert first.status_code == 200
    assert first.json()["id"] == message_id
    assert first.json()["read_at"] is not None
    assert again.json()["read_at"] == first.json()["read_at"]
    assert listed["read_at"] == first.json()["read_at"]


async def test_another_parents_message_is_404_like_a_missing_one(service_db, consumer, api_client, token) -> None:
    guardian = uuid4()
    url, _ = await inbox_of(service_db, consumer, guardian)
    async with api_client("notifications", url) as client:
        message_id = (await client.get("/v1/inbox", headers=bearer(token("parent", subject=str(guardian))))).json()[
            "items"
        ][0]["id"]
        stranger = bearer(token("parent", subject=str(uuid4())))
        theirs = await client.post(f"/v1/inbox/{message_id}/read", headers=stranger)
        missing = await client.post(f"/v1/inbox/{uuid4()}/read", headers=stranger)
        still_unread = (await client.get("/v1/inbox", headers=bearer(token("parent", subject=str(guardian))))).json()

    assert theirs.status_code == missing.status_code == 404
    assert theirs.headers["content-type"].startswith("application/problem+json")
    drop_instance = lambda body: {k: v for k, v in body.items() if k != "instance"}  # noqa: E731
    assert drop_instance(theirs.json()) == drop_instance(missing.json())
    assert still_unread["items"][0]["read_at"] is None


async def test_without_a_token_it_is_401(service_db, api_client) -> None:
    url = await service_db("notifications")
    async with api_client("notifications", url) as client:
        listed = await client.get("/v1/inbox")
        marked = await client.post(f"/v1/inbox/{uuid4()}/read")

    assert listed.status_code == marked.status_code == 401
    assert listed.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("role", ["auditor", "partner", "ops"])
async def test_roles_without_an_inbox_are_refused(service_db, api_client, token, role) -> None:
    url = await service_db("notifications")
    async with api_client("notifications", url) as client:
        listed = await client.get("/v1/inbox", headers=bearer(token(role)))
        marked = await client.post(f"/v1/inbox/{uuid4()}/read", headers=bearer(token(role)))

    assert listed.status_code == marked.status_code == 403


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("POST", "/v1/inbox/not-a-uuid/read", "message_id"),
        ("GET", "/v1/inbox?limit=0", "limit"),
        ("GET", "/v1/inbox?offset=-1", "offset"),
    ],
)
async def test_bad_input_is_a_problem_naming_the_field(service_db, api_client, token, method, path, field) -> None:
    url = await service_db("notifications")
    async with api_client("notifications", url) as client:
        response = await client.request(method, path, headers=bearer(token("parent", subject=str(uuid4()))))

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in {e["field"] for e in response.json()["errors"]}


async def test_a_token_whose_subject_is_not_a_person_id_is_refused_not_crashed(service_db, api_client, token) -> None:
    url = await service_db("notifications")
    async with api_client("notifications", url) as client:
        response = await client.get("/v1/inbox", headers=bearer(token("parent", subject="service-account-7")))

    assert response.status_code == 422


async def test_the_text_is_in_the_readers_language(service_db, consumer, api_client, token) -> None:
    guardian = uuid4()
    url, _ = await inbox_of(service_db, consumer, guardian)
    headers = bearer(token("parent", subject=str(guardian)))
    async with api_client("notifications", url) as client:
        russian_browser = (
            await client.get("/v1/inbox", headers={**headers, "Accept-Language": "ru-RU,ru;q=0.9"})
        ).json()
        chosen = await client.put("/v1/me/preferences", json={"language": "kk"}, headers=headers)
        kazakh = (await client.get("/v1/inbox", headers={**headers, "Accept-Language": "ru"})).json()

    assert russian_browser["items"][0]["title"] == "Ребёнок зарегистрирован"
    assert chosen.status_code == 200
    assert (kazakh["items"][0]["title"], kazakh["items"][0]["language"]) == ("Бала тіркелді", "kk")


async def test_a_providers_staff_share_its_messages_but_each_keeps_their_own_read_marks(
    service_db, consumer, api_client, token
) -> None:
    from .support import enrolment_requested

    url = await service_db("notifications")
    c = await consumer("notifications", url)
    provider = uuid4()
    await c.deliver(message(enrolment_requested(uuid4(), uuid4(), provider)))
    alice = bearer(token("provider_staff", subject=str(uuid4()), scope={"provider": str(provider)}))
    bob = bearer(token("provider_staff", subject=str(uuid4()), scope={"provider": str(provider)}))
    other_provider = bearer(token("provider_staff", subject=str(uuid4()), scope={"provider": str(uuid4())}))
    operator = bearer(token("operator", subject=str(uuid4()), scope={"region": "astana"}))
    async with api_client("notifications", url) as client:
        [item] = (await client.get("/v1/inbox", headers=alice)).json()["items"]
        read_by_alice = await client.post(f"/v1/inbox/{item['id']}/read", headers=alice)
        bobs = (await client.get("/v1/inbox", headers=bob)).json()["items"]
        bobs_unread = (await client.get("/v1/inbox/unread", headers=bob)).json()
        alices_unread = (await client.get("/v1/inbox", params={"unread": True}, headers=alice)).json()
        foreign = (await client.get("/v1/inbox", headers=other_provider)).json()["items"]
        foreign_read = await client.post(f"/v1/inbox/{item['id']}/read", headers=other_provider)
        operators = (await client.get("/v1/inbox", headers=operator)).json()["items"]

    assert (item["kind"], item["title"]) == ("enrolment_requested", "New enrolment request")
    assert read_by_alice.status_code == 200 and read_by_alice.json()["read_at"] is not None
    assert [m["id"] for m in bobs] == [item["id"]] and bobs[0]["read_at"] is None
    assert bobs_unread == {"unread": 1}
    assert alices_unread["items"] == [] and alices_unread["total"] == 0
    assert foreign == [] and operators == []
    assert foreign_read.status_code == 404


async def test_operators_and_administrators_read_their_regions_messages(
    service_db, consumer, api_client, token
) -> None:
    from qosym_contracts.payments import VoucherFundingRefusedV1

    url = await service_db("notifications")
    c = await consumer("notifications", url)
    refused = VoucherFundingRefusedV1(
        round_id=uuid4(), voucher_id=uuid4(), region_code="astana", requested_tiyn=1_000, available_tiyn=10
    )
    await c.deliver(message(refused))

    async def titles(client, **claims) -> list[str]:
        response = await client.get("/v1/inbox", headers=bearer(token(subject=str(uuid4()), **claims)))
        return [m["title"] for m in response.json()["items"]]

    async with api_client("notifications", url) as client:
        regional = await titles(client, role="administrator", scope={"region": "astana"})
        national = await titles(client, role="administrator")
        elsewhere = await titles(client, role="administrator", scope={"region": "almaty"})
        operator = await titles(client, role="operator", scope={"region": "astana"})

    assert regional == national == ["Voucher not funded"]
    assert elsewhere == [] and operator == []
