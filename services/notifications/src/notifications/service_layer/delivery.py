"""Sending planned e-mail and SMS deliveries (a periodic job of the consumers process).

A delivery is claimed with ``FOR UPDATE SKIP LOCKED`` (several consumer replicas never send the same one),
re-checked against the person's current preferences (consent withdrawn or channel switched off: skipped;
quiet hours: postponed to their end), sent, and marked sent with its NotificationDelivered event in the same
transaction. A failure is retried with capped backoff, then the delivery is marked failed. Sending is
at-least-once: a crash between the server's acceptance and our commit sends it again (an e-mail keeps its
Message-ID, so mail clients show it once). Error texts are kept without addresses or content.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.adapters import deliveries_repository as deliveries
from notifications.adapters import messages_repository, preferences_repository
from notifications.adapters.deliveries_repository import DueDelivery
from notifications.domain.preferences import pick_language
from notifications.service_layer.dependencies import Dependencies
from notifications.service_layer.fanout import preferences_from
from qosym_chassis import outbox
from qosym_contracts.notifications import NotificationDeliveredV1

log = logging.getLogger("notifications.delivery")


def safe_error(exc: BaseException) -> str:
    """The error's class and SMTP/HTTP code only: messages of mail servers may quote the address."""
    code = getattr(exc, "code", None) or getattr(exc, "status_code", None)
    return f"{type(exc).__name__}{f' {code}' if code else ''}"


async def deliver_due(deps: Dependencies) -> int:
    """Send what is due now; the number sent."""
    sent = 0
    async with deps.sessions() as session, session.begin():
        for due in await deliveries.claim_due_deliveries(session, deps.clock.now(), deps.sending.batch_size):
            sent += await _deliver(deps, session, due)
    return sent


async def _deliver(deps: Dependencies, session: AsyncSession, due: DueDelivery) -> int:
    now = deps.clock.now()
    person_id = due.person_id
    stored = await preferences_repository.get_preference(session, person_id)
    box = deps.contacts
    email = box.open(stored.email_enc, person_id=person_id, field="email") if stored else None
    phone = box.open(stored.phone_enc, person_id=person_id, field="phone") if stored else None
    preferences = preferences_from(stored, email=email, phone=phone)
    message = await messages_repository.message_by_id(session, due.message_id)
    if message is None or due.channel not in preferences.channels_for(message.kind):
        await deliveries.settle_delivery(session, due.id, status="skipped", last_error="no consent or channel off")
        return 0
    email_sender, sms_sender = deps.sending.email, deps.sending.sms
    if (email_sender if due.channel == "email" else sms_sender) is None:
        await deliveries.settle_delivery(
            session, due.id, not_before=now + timedelta(minutes=1), last_error=f"no {due.channel} server configured"
        )
        return 0
    quiet_until = preferences.quiet_until(now)
    if quiet_until is not None:
        await deliveries.settle_delivery(session, due.id, not_before=quiet_until)
        return 0
    language = pick_language(preferences.language, None, deps.texts.default_language)
    [text] = await deps.texts.render(session, [replace(message, read_at=None)], language, preferences.timezone)
    attempts = due.attempts + 1
    try:
        if due.channel == "email":
            assert email_sender is not None and email is not None  # checked above: configured, consented
            await email_sender.send(delivery_id=due.id, to=email, subject=text.title, body=text.body, language=language)
        else:
            assert sms_sender is not None and phone is not None  # checked above: configured, consented
            await sms_sender.send(person_id=person_id, phone=phone, text=f"{text.title}\n{text.body}"[:1000])
    except Exception as exc:
        error = safe_error(exc)
        log.warning("delivery %s by %s failed (attempt %d): %s", due.id, due.channel, attempts, error)
        status = "failed" if attempts >= deps.sending.max_attempts else "pending"
        retry_in = timedelta(seconds=min(3600, 5 * 2 ** (attempts - 1)))
        await deliveries.settle_delivery(
            session, due.id, attempts=attempts, status=status, not_before=now + retry_in, last_error=error
        )
        return 0
    await deliveries.settle_delivery(session, due.id, attempts=attempts, status="sent", sent_at=now, last_error=None)
    await outbox.add_event(
        session,
        NotificationDeliveredV1(
            notification_id=due.message_id,
            person_id=person_id,
            kind=message.kind,
            channel=due.channel,
            delivered_at=now,
        ),
    )
    return 1
