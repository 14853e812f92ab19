"""Reviews: the author hears, in their language, that an operator hid their review and why (the reason's category:
the bus carries no operator's words); the provider's staff hear that a parent reviewed their programme. Each
once, however often the event arrives, and nobody else."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from qosym_chassis.consumer import Outcome
from qosym_contracts.reviews import ReviewHiddenV1, ReviewPublishedV1
from tests.support.events import message

from .support import bearer, messages, programme_published, rows, smtp_server, value

pytestmark = pytest.mark.component


def ids(**fields: UUID) -> dict[str, UUID]:
    base = {
        "review_id": uuid4(),
        "programme_id": uuid4(),
        "provider_id": uuid4(),
        "enrolment_id": uuid4(),
        "child_id": uuid4(),
        "guardian_id": uuid4(),
    }
    return {**base, **fields}


async def read(client, headers: dict[str, str], language: str = "en") -> list[tuple[str, str, str, str]]:
    items = (await client.get("/v1/inbox", headers={**headers, "Accept-Language": language})).json()["items"]
    return [(i["kind"], i["language"], i["title"], i["body"]) for i in items]


async def test_the_author_of_a_hidden_review_is_told_why_in_their_language_and_nobody_else_is(
    service_db, consumer, api_client, token
) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    provider, programme, author = uuid4(), uuid4(), uuid4()
    await c.deliver(message(programme_published(programme, provider)))
    hidden = ReviewHiddenV1(
        **ids(provider_id=provider, programme_id=programme, guardian_id=author), reason_code="personal_data"
    )
    authors = bearer(token("parent", subject=str(author)))
    async with api_client("notifications", url) as client:
        assert (await client.put("/v1/me/preferences", json={"language": "ru"}, headers=authors)).status_code == 200

        assert await c.deliver(message(hidden)) is Outcome.APPLIED

        author_reads = await read(client, authors, "en")
        stranger_reads = await read(client, bearer(token("parent", subject=str(uuid4()))))
        staff_reads = await read(
            client, bearer(token("provider_staff", subject=str(uuid4()), scope={"provider": str(provider)}))
        )
        operator_reads = await read(client, bearer(token("operator", subject=str(uuid4()), scope={"region": "astana"})))

    [(kind, language, title, body)] = author_reads
    assert (kind, language, title) == ("review_hidden", "ru", "Ваш отзыв скрыт")
    assert "Юный футболист" in body and "персональные данные" in body
    assert stranger_reads == staff_reads == operator_reads == []
    [stored] = await messages(url)
    assert (stored["audience"], stored["subject_id"]) == (f"person:{author}", hidden.review_id)
    assert stored["payload"]["reason"] == "personal_data"
    assert "text" not in stored["payload"] and "body" not in stored["payload"]


@pytest.mark.parametrize(
    ("language", "reason", "expected"),
    [("en", "advertising", "it was advertising"), ("kk", "abusive", "балағат"), ("ru", "other", "правила отзывов")],
)
async def test_each_reason_reads_as_words_in_the_authors_language(
    service_db, consumer, api_client, token, language, reason, expected
) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    author = uuid4()
    authors = bearer(token("parent", subject=str(author)))
    async with api_client("notifications", url) as client:
        await client.put("/v1/me/preferences", json={"language": language}, headers=authors)
        await c.deliver(message(ReviewHiddenV1(**ids(guardian_id=author), reason_code=reason)))
        [(_, read_in, _, body)] = await read(client, authors)

    assert read_in == language and expected in body


async def test_a_published_review_reaches_the_providers_staff_with_the_programme_and_never_its_author(
    service_db, consumer, api_client, token
) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    provider, programme, author = uuid4(), uuid4(), uuid4()
    await c.deliver(message(programme_published(programme, provider)))
    published = ReviewPublishedV1(**ids(provider_id=provider, programme_id=programme, guardian_id=author))

    assert await c.deliver(message(published)) is Outcome.APPLIED

    async with api_client("notifications", url) as client:
        staff_reads = await read(
            client, bearer(token("provider_staff", subject=str(uuid4()), scope={"provider": str(provider)})), "kk"
        )
        other_staff = await read(
            client, bearer(token("provider_staff", subject=str(uuid4()), scope={"provider": str(uuid4())}))
        )
        author_reads = await read(client, bearer(token("parent", subject=str(author))))

    [(kind, language, title, body)] = staff_reads
    assert (kind, language, title) == ("review_published", "kk", "Бағдарламаңыз туралы жаңа пікір")
    assert "Жас футболшы" in body
    assert other_staff == author_reads == []
    [stored] = await messages(url)
    assert (stored["audience"], stored["subject_id"]) == (f"provider:{provider}", published.review_id)


async def test_a_redelivered_or_replayed_review_event_tells_nobody_twice(service_db, consumer) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    review = ids()
    published = ReviewPublishedV1(**review)
    hidden = ReviewHiddenV1(**review, reason_code="off_topic")
    for event in (published, hidden):
        assert await c.deliver(message(event)) is Outcome.APPLIED
        assert await c.deliver(message(event)) is Outcome.DUPLICATE
        assert await c.deliver(message(event.model_copy(update={"event_id": uuid4()}))) is Outcome.APPLIED

    assert sorted((m["kind"], m["audience"]) for m in await messages(url)) == [
        ("review_hidden", f"person:{review['guardian_id']}"),
        ("review_published", f"provider:{review['provider_id']}"),
    ]
    assert await value(url, "SELECT count(*) FROM outbox") == 1  # one in-app delivery: the author's


async def test_a_hidden_review_goes_out_by_email_when_the_author_consented(
    service_db, consumer, api_client, token
) -> None:
    url = await service_db("notifications")
    author = uuid4()
    async with api_client("notifications", url) as client:
        chosen = await client.put(
            "/v1/me/preferences",
            json={"language": "en", "email": {"address": "mama@example.kz", "consent": True}},
            headers=bearer(token("parent", subject=str(author))),
        )
    assert chosen.status_code == 200
    with smtp_server() as smtp:
        c = await consumer("notifications", url, smtp_host="127.0.0.1", smtp_port=smtp.port)
        await c.deliver(message(ReviewHiddenV1(**ids(guardian_id=author), reason_code="not_first_hand")))
        [job] = [job for _, job in c.periodic if getattr(job, "__name__", "") == "deliver_due"]

        assert await job() == 1

    [mail] = smtp.received
    assert (mail["To"], mail["Subject"]) == ("mama@example.kz", "Your review was hidden")
    assert "not a first-hand experience" in mail.get_content()
    sent = await rows(url, "SELECT person_id, channel, status FROM delivery")
    assert [(r["person_id"], r["channel"], r["status"]) for r in sent] == [(author, "email", "sent")]
