"""E-mail to a real SMTP server (aiosmtpd) and SMS to a real HTTP gateway: consent, channels, quiet hours, once."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from qosym_chassis.consumer import EventConsumer
from tests.support.events import child_registered, message

from .support import (
    awarded,
    bearer,
    enrolment_requested,
    now,
    programme_published,
    rows,
    sms_gateway,
    smtp_server,
    submitted,
    value,
)

pytestmark = pytest.mark.component


async def deliver(c: EventConsumer) -> int:
    """Run the consumers process's delivery job once, as ``consumer.every`` would."""
    [job] = [job for _, job in c.periodic if getattr(job, "__name__", "") == "deliver_due"]
    return int(await job())


async def set_preferences(api_client, url: str, headers: dict[str, str], **body) -> None:
    async with api_client("notifications", url) as client:
        response = await client.put("/v1/me/preferences", json={"language": "en", **body}, headers=headers)
    assert response.status_code == 200, response.text


async def test_an_email_reaches_a_real_smtp_server_in_the_persons_language_once(
    service_db, consumer, api_client, token
) -> None:
    url = await service_db("notifications")
    parent, child = uuid4(), uuid4()
    headers = bearer(token("parent", subject=str(parent)))
    await set_preferences(
        api_client, url, headers, language="ru", email={"address": "mama@example.kz", "consent": True}
    )
    with smtp_server() as smtp:
        c = await consumer("notifications", url, smtp_host="127.0.0.1", smtp_port=smtp.port)
        registered = child_registered(parent, child)
        await c.deliver(message(registered))
        await c.deliver(message(submitted(child)))

        assert await deliver(c) == 2
        assert await deliver(c) == 0
        await c.deliver(message(registered))  # redelivered
        await c.deliver(message(child_registered(parent, child)))  # replayed under a new event id
        assert await deliver(c) == 0

    assert [m["Subject"] for m in smtp.received] == ["Ребёнок зарегистрирован", "Заявка принята"]
    first = smtp.received[0]
    assert first["To"] == "mama@example.kz" and first["Content-Language"] == "ru"
    assert "Qosym" in first.get_content()
    sent = await rows(url, "SELECT id, status, attempts FROM delivery ORDER BY created_at")
    assert [(r["status"], r["attempts"]) for r in sent] == [("sent", 1), ("sent", 1)]
    assert first["Message-ID"] == f"<{sent[0]['id']}@notifications.qosym>"
    channels = await rows(
        url,
        "SELECT payload->>'channel' AS channel FROM outbox WHERE event_type = 'notifications.NotificationDelivered'",
    )
    assert sorted(r["channel"] for r in channels) == ["email", "email", "in_app", "in_app"]
    delivered = await value(url, "SELECT string_agg(payload::text, ' ') FROM outbox")
    assert "mama@example.kz" not in delivered  # no address on the bus


async def test_an_urgent_message_also_goes_by_sms_through_the_http_gateway(
    service_db, consumer, api_client, token
) -> None:
    url = await service_db("notifications")
    parent, child = uuid4(), uuid4()
    headers = bearer(token("parent", subject=str(parent)))
    await set_preferences(api_client, url, headers, phone={"number": "+77011234567", "consent": True})
    with sms_gateway() as gateway:
        c = await consumer("notifications", url, sms_gateway_url=gateway.url, sms_gateway_token="gw-secret")
        await c.deliver(message(child_registered(parent, child)))
        application = submitted(child)
        await c.deliver(message(application))
        await c.deliver(message(awarded(application)))
        gateway.fail_next = 1

        assert await deliver(c) == 0  # the gateway is busy: retried later
        [failed] = await rows(url, "SELECT status, attempts, not_before, last_error FROM delivery")
        assert (failed["status"], failed["attempts"], failed["last_error"]) == ("pending", 1, "SmsRefused")
        assert failed["not_before"] > now()
        await value(url, "UPDATE delivery SET not_before = now() RETURNING 1")
        assert await deliver(c) == 1

    [sms] = gateway.received
    assert sms["to"] == "+77011234567" and sms["reference"] == str(parent)
    assert sms["text"].startswith("Voucher awarded")
    assert gateway.headers[0]["authorization"] == "Bearer gw-secret"


async def test_without_consent_nothing_leaves_the_app_and_withdrawal_stops_what_was_queued(
    service_db, consumer, api_client, token
) -> None:
    url = await service_db("notifications")
    parent, child = uuid4(), uuid4()
    headers = bearer(token("parent", subject=str(parent)))
    with smtp_server() as smtp:
        c = await consumer("notifications", url, smtp_host="127.0.0.1", smtp_port=smtp.port)
        await c.deliver(message(child_registered(parent, child)))  # no preferences at all yet
        assert await value(url, "SELECT count(*) FROM delivery") == 0

        await set_preferences(api_client, url, headers, email={"address": "papa@example.kz", "consent": True})
        await c.deliver(message(submitted(child)))
        assert await value(url, "SELECT count(*) FROM delivery WHERE status = 'pending'") == 1
        await set_preferences(api_client, url, headers, email={"consent": False})
        assert await deliver(c) == 0

    assert smtp.received == []
    assert await value(url, "SELECT status FROM delivery") == "skipped"
    assert await value(url, "SELECT email_enc FROM preference") is None


async def test_quiet_hours_delay_email_not_the_inbox(service_db, consumer, api_client, token) -> None:
    url = await service_db("notifications")
    parent, child = uuid4(), uuid4()
    headers = bearer(token("parent", subject=str(parent)))
    local = now().astimezone(ZoneInfo("Asia/Almaty"))
    start, end = (local - timedelta(hours=1)).strftime("%H:%M"), (local + timedelta(hours=2)).strftime("%H:%M")
    await set_preferences(
        api_client,
        url,
        headers,
        email={"address": "mama@example.kz", "consent": True},
        quiet_hours={"start": start, "end": end},
    )
    with smtp_server() as smtp:
        c = await consumer("notifications", url, smtp_host="127.0.0.1", smtp_port=smtp.port)
        await c.deliver(message(child_registered(parent, child)))
        assert await deliver(c) == 0
        waiting = await value(url, "SELECT not_before FROM delivery")
        assert timedelta(hours=1, minutes=55) < waiting - now() < timedelta(hours=2, minutes=1)
        async with api_client("notifications", url) as client:
            assert len((await client.get("/v1/inbox", headers=headers)).json()["items"]) == 1

        later = await consumer(
            "notifications", url, smtp_host="127.0.0.1", smtp_port=smtp.port, clock_offset_s=2 * 3600 + 60
        )
        assert await deliver(later) == 1
    assert len(smtp.received) == 1


async def test_a_providers_staff_member_who_consented_hears_the_providers_news_by_email(
    service_db, consumer, api_client, token
) -> None:
    url = await service_db("notifications")
    provider, programme, staff = uuid4(), uuid4(), uuid4()
    headers = bearer(token("provider_staff", subject=str(staff), scope={"provider": str(provider)}))
    await set_preferences(
        api_client, url, headers, language="kk", email={"address": "coach@example.kz", "consent": True}
    )
    with smtp_server() as smtp:
        c = await consumer("notifications", url, smtp_host="127.0.0.1", smtp_port=smtp.port)
        await c.deliver(message(programme_published(programme, provider)))
        await c.deliver(message(enrolment_requested(uuid4(), programme, provider)))
        await c.deliver(message(enrolment_requested(uuid4(), programme, uuid4())))  # another provider's
        assert await deliver(c) == 1

    [mail] = smtp.received
    assert mail["To"] == "coach@example.kz" and mail["Subject"] == "Жазылуға жаңа өтінім"
    assert "Жас футболшы" in mail.get_content()  # the programme's title in the reader's language
    person = await value(url, "SELECT person_id FROM delivery")
    assert UUID(str(person)) == staff
