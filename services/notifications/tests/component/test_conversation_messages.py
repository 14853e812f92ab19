"""A new message in a conversation reaches the other side of its thread through the inbox, in each reader's
language, never its author, never its text, and once however often the event arrives."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from qosym_chassis.consumer import Outcome
from qosym_contracts.conversations import MessagePostedV1
from tests.support.events import message

from .support import bearer, messages, rows, sms_gateway, smtp_server, value

pytestmark = pytest.mark.component


def posted(**fields: object) -> MessagePostedV1:
    base: dict[str, object] = {
        "thread_id": uuid4(),
        "message_id": uuid4(),
        "object_type": "enrolment",
        "object_id": uuid4(),
        "counterpart": "provider",
    }
    return MessagePostedV1.model_validate({**base, **fields})


async def titles(client, headers: dict[str, str], language: str = "en") -> list[tuple[str, str, str]]:
    items = (await client.get("/v1/inbox", headers={**headers, "Accept-Language": language})).json()["items"]
    return [(i["kind"], i["language"], i["title"]) for i in items]


async def test_a_providers_answer_reaches_each_guardian_in_their_language_and_not_its_author(
    service_db, consumer, api_client, token
) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    mother, father, staff, provider = uuid4(), uuid4(), uuid4(), uuid4()
    event = posted(author_role="provider_staff", author_id=staff, recipient_guardian_ids=[mother, father, staff])
    mothers = bearer(token("parent", subject=str(mother)))
    async with api_client("notifications", url) as client:
        assert (await client.put("/v1/me/preferences", json={"language": "kk"}, headers=mothers)).status_code == 200

        assert await c.deliver(message(event)) is Outcome.APPLIED

        mother_reads = await titles(client, mothers, "ru")
        father_reads = await titles(client, bearer(token("parent", subject=str(father))), "ru")
        staff_reads = await titles(
            client, bearer(token("provider_staff", subject=str(staff), scope={"provider": str(provider)}))
        )

    assert mother_reads == [("message_posted", "kk", "Үйірмеге қабылдау туралы сөйлесуде жаңа хабарлама")]
    assert father_reads == [("message_posted", "ru", "Новое сообщение в переписке о зачислении")]
    assert staff_reads == []
    stored = await messages(url)
    assert sorted(m["audience"] for m in stored) == sorted([f"person:{mother}", f"person:{father}"])
    assert {m["subject_id"] for m in stored} == {event.thread_id}
    assert all(m["payload"]["thread_id"] == str(event.thread_id) for m in stored)
    assert all("text" not in m["payload"] and "body" not in m["payload"] for m in stored)


async def test_a_guardians_question_reaches_the_providers_staff_and_never_the_guardian(
    service_db, consumer, api_client, token
) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    guardian, provider = uuid4(), uuid4()
    event = posted(author_role="guardian", author_id=guardian, recipient_provider_id=provider)

    assert await c.deliver(message(event)) is Outcome.APPLIED

    staff = bearer(token("provider_staff", subject=str(uuid4()), scope={"provider": str(provider)}))
    other_staff = bearer(token("provider_staff", subject=str(uuid4()), scope={"provider": str(uuid4())}))
    async with api_client("notifications", url) as client:
        staff_reads = await titles(client, staff, "en")
        others_read = await titles(client, other_staff, "en")
        author_reads = await titles(client, bearer(token("parent", subject=str(guardian))), "en")

    assert staff_reads == [("message_posted", "en", "New message in a conversation about an enrolment")]
    assert others_read == [] and author_reads == []
    assert [m["audience"] for m in await messages(url)] == [f"provider:{provider}"]


async def test_a_question_to_the_consultation_point_reaches_the_regions_operators(
    service_db, consumer, api_client, token
) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    guardian = uuid4()
    event = posted(
        object_type="dispute",
        counterpart="consultation_point",
        author_role="guardian",
        author_id=guardian,
        recipient_region_code="astana",
        recipient_district_code="yesil",
    )

    assert await c.deliver(message(event)) is Outcome.APPLIED

    operator = bearer(token("operator", subject=str(uuid4()), scope={"region": "astana"}))
    elsewhere = bearer(token("operator", subject=str(uuid4()), scope={"region": "almaty"}))
    async with api_client("notifications", url) as client:
        operator_reads = await titles(client, operator, "ru")
        elsewhere_reads = await titles(client, elsewhere, "ru")

    assert operator_reads == [("message_posted", "ru", "Новое сообщение в переписке о споре")]
    assert elsewhere_reads == []
    [stored] = await messages(url)
    assert (stored["audience"], stored["payload"]["district_code"]) == ("operators:astana", "yesil")


async def test_a_redelivered_or_replayed_message_event_tells_nobody_twice(service_db, consumer) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    mother, father = uuid4(), uuid4()
    event = posted(author_role="operator", author_id=uuid4(), recipient_guardian_ids=[mother, father])
    await c.deliver(message(event))
    outbox = await value(url, "SELECT count(*) FROM outbox")

    assert await c.deliver(message(event)) is Outcome.DUPLICATE
    replay = event.model_copy(update={"event_id": uuid4()})  # the same posted message under a new event id
    assert await c.deliver(message(replay)) is Outcome.APPLIED

    assert sorted(m["audience"] for m in await messages(url)) == sorted([f"person:{mother}", f"person:{father}"])
    assert await value(url, "SELECT count(*) FROM outbox") == outbox == 2  # one in-app delivery per guardian


async def test_two_messages_in_one_thread_are_two_notices(service_db, consumer) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    guardian: UUID = uuid4()
    first = posted(author_role="provider_staff", author_id=uuid4(), recipient_guardian_ids=[guardian])
    second = posted(
        thread_id=first.thread_id, author_role="provider_staff", author_id=uuid4(), recipient_guardian_ids=[guardian]
    )

    await c.deliver(message(first))
    await c.deliver(message(second))

    assert [m["payload"]["message_id"] for m in await messages(url)] == [str(first.message_id), str(second.message_id)]


async def test_a_new_message_goes_out_by_email_or_sms_as_each_guardian_chose(
    service_db, consumer, api_client, token
) -> None:
    url = await service_db("notifications")
    mother, father = uuid4(), uuid4()
    async with api_client("notifications", url) as client:
        chosen = [
            await client.put(
                "/v1/me/preferences",
                json={
                    "language": "kk",
                    "phone": {"number": "+77011234567", "consent": True},
                    "channels": {"message_posted": ["sms"]},
                },
                headers=bearer(token("parent", subject=str(mother))),
            ),
            await client.put(
                "/v1/me/preferences",
                json={"language": "en", "email": {"address": "papa@example.kz", "consent": True}},
                headers=bearer(token("parent", subject=str(father))),
            ),
        ]
    assert [r.status_code for r in chosen] == [200, 200]
    event = posted(author_role="provider_staff", author_id=uuid4(), recipient_guardian_ids=[mother, father])
    with smtp_server() as smtp, sms_gateway() as gateway:
        c = await consumer(
            "notifications", url, smtp_host="127.0.0.1", smtp_port=smtp.port, sms_gateway_url=gateway.url
        )
        await c.deliver(message(event))
        [job] = [job for _, job in c.periodic if getattr(job, "__name__", "") == "deliver_due"]

        assert await job() == 2
        await c.deliver(message(event))  # redelivered: nothing more goes out
        assert await job() == 0

    [mail] = smtp.received
    assert (mail["To"], mail["Subject"]) == ("papa@example.kz", "New message in a conversation about an enrolment")
    assert str(event.thread_id) in mail.get_content()
    [sms] = gateway.received
    assert sms["to"] == "+77011234567" and sms["text"].startswith("Үйірмеге қабылдау туралы сөйлесуде")
    sent = await rows(url, "SELECT person_id, channel, status FROM delivery ORDER BY channel")
    assert [(r["person_id"], r["channel"], r["status"]) for r in sent] == [
        (father, "email", "sent"),
        (mother, "sms", "sent"),
    ]
