"""Conversations' API: a guardian starts a thread about an object with the provider or the consultation point,
both sides post and read, receipts show who read how far, attachments keep evidence's limits, MessagePosted
carries ids only; strangers (another parent, another provider's staff, an operator of another region) get 404 on
every thread route, other roles 403."""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from conversations.domain.messages import ATTACHMENT_MAX_BYTES
from services.conversations.tests.component.support import PDF, Family, auth, family

pytestmark = pytest.mark.component


@asynccontextmanager
async def stack(service_db: Any, consumer: Any, api_client: Any) -> Any:
    url = await service_db("conversations")
    c = await consumer("conversations", url)
    f = await family(c)
    async with api_client("conversations", url) as client:
        yield url, f, client


async def outbox(url: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT topic, payload FROM outbox ORDER BY created_at")
    finally:
        await conn.close()
    return [{"topic": r["topic"], **json.loads(r["payload"])} for r in rows]


def people(token: Any, f: Family) -> dict[str, dict[str, str]]:
    return {
        "guardian": auth(token("parent", str(f.guardian_id))),
        "second_guardian": auth(token("parent", str(f.second_guardian_id))),
        "staff": auth(token("provider_staff", scope={"provider": str(f.provider_id)})),
        "operator": auth(token("operator", scope={"region": "astana"})),
        "district_operator": auth(token("operator", scope={"region": "astana", "district": "yesil"})),
    }


def strangers(token: Any) -> dict[str, dict[str, str]]:
    return {
        "other_parent": auth(token("parent", str(uuid4()))),
        "other_provider": auth(token("provider_staff", scope={"provider": str(uuid4())})),
        "other_region_operator": auth(token("operator", scope={"region": "almaty"})),
        "other_district_operator": auth(token("operator", scope={"region": "astana", "district": "saryarka"})),
    }


async def test_a_parent_asks_the_provider_about_an_enrolment_and_gets_an_answer(
    service_db, consumer, api_client, token
) -> None:
    async with stack(service_db, consumer, api_client) as (url, f, client):
        who = people(token, f)
        started = await client.post(
            "/v1/threads",
            json={"object_type": "enrolment", "object_id": str(f.enrolment_id), "with": "provider"},
            headers=who["guardian"],
        )
        assert started.status_code == 201, started.text
        thread = started.json()
        assert (thread["counterpart"], thread["your_side"], thread["provider_id"]) == (
            "provider",
            "guardian",
            str(f.provider_id),
        )
        again = await client.post(
            "/v1/threads",
            json={"object_type": "enrolment", "object_id": str(f.enrolment_id), "with": "provider"},
            headers=who["staff"],
        )
        assert again.status_code == 200
        assert again.json()["thread_id"] == thread["thread_id"]
        base = f"/v1/threads/{thread['thread_id']}"

        asked = await client.post(
            f"{base}/messages", json={"language": "kk", "text": "Сабақ қашан?\nРахмет"}, headers=who["guardian"]
        )
        assert asked.status_code == 201, asked.text
        answered = await client.post(
            f"{base}/messages", json={"language": "ru", "text": "По средам в 16:00"}, headers=who["staff"]
        )
        assert answered.status_code == 201

        listed = await client.get(f"{base}/messages", headers=who["second_guardian"])
        assert [(m["author_side"], m["language"], m["text"]) for m in listed.json()["items"]] == [
            ("guardian", "kk", "Сабақ қашан?\nРахмет"),
            ("provider_staff", "ru", "По средам в 16:00"),
        ]
        mine = await client.get("/v1/threads", headers=who["staff"])
        assert [t["thread_id"] for t in mine.json()["items"]] == [thread["thread_id"]]
        assert (listed.json()["total"], mine.json()["total"]) == (2, 1)

        events = await outbox(url)
        assert [e["topic"] for e in events] == ["conversations.message.v1"] * 2
        by_guardian, by_staff = events
        assert by_guardian["recipient_provider_id"] == str(f.provider_id)
        assert by_guardian["recipient_guardian_ids"] == [str(f.second_guardian_id)]
        assert by_guardian["author_role"] == "guardian"
        assert sorted(by_staff["recipient_guardian_ids"]) == sorted([str(f.guardian_id), str(f.second_guardian_id)])
        assert by_staff["recipient_provider_id"] is None
        for event in events:
            assert "Сабақ" not in json.dumps(event) and "средам" not in json.dumps(event)
            assert event["object_type"] == "enrolment" and event["object_id"] == str(f.enrolment_id)


async def test_read_receipts_per_participant(service_db, consumer, api_client, token) -> None:
    async with stack(service_db, consumer, api_client) as (_, f, client):
        who = people(token, f)
        thread = (
            await client.post(
                "/v1/threads",
                json={"object_type": "dispute", "object_id": str(f.dispute_id), "with": "consultation_point"},
                headers=who["guardian"],
            )
        ).json()
        base = f"/v1/threads/{thread['thread_id']}"
        empty = await client.post(f"{base}/read", headers=who["operator"])
        assert empty.status_code == 409
        posted = (
            await client.post(
                f"{base}/messages",
                json={"language": "en", "text": "Two sessions never happened"},
                headers=who["guardian"],
            )
        ).json()
        read = await client.post(f"{base}/read", headers=who["district_operator"])
        assert read.status_code == 200, read.text
        assert read.json()["last_read_message_id"] == posted["message_id"]

        receipts = (await client.get(base, headers=who["guardian"])).json()["receipts"]
        assert sorted((r["reader_side"], r["last_read_message_id"]) for r in receipts) == [
            ("guardian", posted["message_id"]),
            ("operator", posted["message_id"]),
        ]


async def test_attachments_keep_the_evidence_limits_and_are_stored_sealed(
    service_db, consumer, api_client, token, superuser_url
) -> None:
    async with stack(service_db, consumer, api_client) as (url, f, client):
        who = people(token, f)
        thread = (
            await client.post(
                "/v1/threads",
                json={"object_type": "timesheet", "object_id": str(f.timesheet_id), "with": "provider"},
                headers=who["guardian"],
            )
        ).json()
        base = f"/v1/threads/{thread['thread_id']}"
        posted = (
            await client.post(f"{base}/messages", json={"language": "ru", "text": "Справка"}, headers=who["guardian"])
        ).json()
        upload = f"{base}/messages/{posted['message_id']}/attachments"

        ok = await client.post(upload, files={"file": ("note.pdf", PDF, "application/pdf")}, headers=who["guardian"])
        assert ok.status_code == 201, ok.text
        assert ok.json()["media_type"] == "application/pdf"
        too_big = await client.post(
            upload,
            files={"file": ("big.pdf", b"%PDF-" + b"0" * ATTACHMENT_MAX_BYTES, "application/pdf")},
            headers=who["guardian"],
        )
        # refused whole: the chassis' request body limit (413) or the evidence limit (422), as for registry
        assert too_big.status_code in (413, 422)
        wrong = await client.post(
            upload, files={"file": ("x.pdf", b"<html>not a pdf", "application/pdf")}, headers=who["guardian"]
        )
        assert wrong.status_code == 422
        assert wrong.json()["errors"][0]["field"] == "file"
        not_author = await client.post(
            upload, files={"file": ("note.pdf", PDF, "application/pdf")}, headers=who["staff"]
        )
        assert not_author.status_code == 404

        got = await client.get(f"{base}/attachments/{ok.json()['attachment_id']}", headers=who["staff"])
        assert got.status_code == 200
        assert got.content == PDF
        assert got.headers["content-type"] == "application/pdf"
        listed = (await client.get(f"{base}/messages", headers=who["staff"])).json()
        assert [a["attachment_id"] for a in listed["items"][0]["attachments"]] == [ok.json()["attachment_id"]]

        conn = await asyncpg.connect(superuser_url(url))
        try:
            sealed = await conn.fetchval("SELECT sealed FROM attachment")
        finally:
            await conn.close()
        assert PDF not in sealed


@pytest.mark.parametrize("object_type", ["enrolment", "timesheet", "dispute", "application"])
async def test_strangers_get_404_on_every_thread_route(service_db, consumer, api_client, token, object_type) -> None:
    async with stack(service_db, consumer, api_client) as (url, f, client):
        who = people(token, f)
        counterpart = "consultation_point" if object_type in ("application", "dispute") else "provider"
        start = {"object_type": object_type, "object_id": str(f.object_id(object_type)), "with": counterpart}
        thread = (await client.post("/v1/threads", json=start, headers=who["guardian"])).json()
        base = f"/v1/threads/{thread['thread_id']}"
        posted = (
            await client.post(f"{base}/messages", json={"language": "kk", "text": "Сәлем"}, headers=who["guardian"])
        ).json()
        attached = (
            await client.post(
                f"{base}/messages/{posted['message_id']}/attachments",
                files={"file": ("a.pdf", PDF, "application/pdf")},
                headers=who["guardian"],
            )
        ).json()
        before = await outbox(url)
        outsiders = strangers(token)
        # the counterpart not chosen takes no part either
        outsiders["not_the_counterpart"] = who["operator"] if counterpart == "provider" else who["staff"]
        for name, headers in outsiders.items():
            calls = [
                await client.post("/v1/threads", json=start, headers=headers),
                await client.get(base, headers=headers),
                await client.get(f"{base}/messages", headers=headers),
                await client.post(f"{base}/messages", json={"language": "en", "text": "hi"}, headers=headers),
                await client.post(f"{base}/read", headers=headers),
                await client.post(
                    f"{base}/messages/{posted['message_id']}/attachments",
                    files={"file": ("a.pdf", PDF, "application/pdf")},
                    headers=headers,
                ),
                await client.get(f"{base}/attachments/{attached['attachment_id']}", headers=headers),
            ]
            assert [r.status_code for r in calls] == [404] * len(calls), (name, [r.text[:100] for r in calls])
            assert thread["thread_id"] not in (await client.get("/v1/threads", headers=headers)).text
        for role in ("administrator", "auditor", "ops"):
            assert (await client.get(base, headers=auth(token(role)))).status_code == 403
        assert await outbox(url) == before


async def test_an_application_has_no_provider_to_talk_to(service_db, consumer, api_client, token) -> None:
    async with stack(service_db, consumer, api_client) as (_, f, client):
        refused = await client.post(
            "/v1/threads",
            json={"object_type": "application", "object_id": str(f.application_id), "with": "provider"},
            headers=people(token, f)["guardian"],
        )
        assert refused.status_code == 422
        unknown = await client.post(
            "/v1/threads",
            json={"object_type": "enrolment", "object_id": str(uuid4()), "with": "provider"},
            headers=people(token, f)["guardian"],
        )
        assert unknown.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"language": "de", "text": "Hallo"},
        {"language": "kk", "text": ""},
        {"language": "kk", "text": "a\x00b"},
        {"language": "kk", "text": "x" * 4001},
    ],
)
async def test_a_message_is_bounded_text_in_kk_ru_or_en(service_db, consumer, api_client, token, body) -> None:
    async with stack(service_db, consumer, api_client) as (_, f, client):
        who = people(token, f)
        thread = (
            await client.post(
                "/v1/threads",
                json={"object_type": "enrolment", "object_id": str(f.enrolment_id), "with": "provider"},
                headers=who["guardian"],
            )
        ).json()
        refused = await client.post(f"/v1/threads/{thread['thread_id']}/messages", json=body, headers=who["guardian"])
        assert refused.status_code == 422


async def test_operators_see_response_times_per_provider_of_their_region(
    service_db, consumer, api_client, token
) -> None:
    url = await service_db("conversations")
    c = await consumer("conversations", url)
    f = await family(c)
    offsets = iter([0, 600, 3600, 3600 + 1800])  # the guardian asks, the staff answer 10 minutes later, again 30
    async with api_client("conversations", url) as client:
        who = people(token, f)
        thread = (
            await client.post(
                "/v1/threads",
                json={"object_type": "enrolment", "object_id": str(f.enrolment_id), "with": "provider"},
                headers=who["guardian"],
            )
        ).json()
        base = f"/v1/threads/{thread['thread_id']}"
        for author in ("guardian", "staff", "guardian", "staff"):
            await client.post(f"{base}/messages", json={"language": "ru", "text": "…"}, headers=who[author])
    conn = await asyncpg.connect(url)
    try:
        # the messages' instants, placed where the test wants them (the clock of one request is not adjustable)
        ids = [r["message_id"] for r in await conn.fetch("SELECT message_id FROM message ORDER BY posted_at")]
        for message_id, offset in zip(ids, offsets, strict=True):
            await conn.execute(
                "UPDATE message SET posted_at = '2026-10-01T09:00:00Z'::timestamptz + make_interval(secs => $2) "
                "WHERE message_id = $1",
                message_id,
                offset,
            )
    finally:
        await conn.close()
    async with api_client("conversations", url) as client:
        report = await client.get(
            "/v1/conversations/regions/astana/response-times", headers=people(token, f)["operator"]
        )
        assert report.status_code == 200, report.text
        assert report.json()["providers"] == [
            {"provider_id": str(f.provider_id), "answered": 2, "unanswered": 0, "median_s": 1200.0, "p90_s": 1680.0}
        ]
        other = await client.get(
            "/v1/conversations/regions/astana/response-times", headers=strangers(token)["other_region_operator"]
        )
        assert other.status_code == 404
        parent = await client.get(
            "/v1/conversations/regions/astana/response-times", headers=people(token, f)["guardian"]
        )
        assert parent.status_code == 403
