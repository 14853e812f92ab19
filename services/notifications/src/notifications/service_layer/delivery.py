"""Sending planned e-mail and SMS deliveries, and firing due reminders (periodic jobs of the consumers process).

A delivery is claimed with ``FOR UPDATE SKIP LOCKED`` (several consumer replicas never send the same one),
re-checked against the person's current preferences (consent withdrawn or channel switched off: skipped;
quiet hours: postponed to their end), sent, and marked sent with its NotificationDelivered event in the same
transaction. A failure is retried with capped backoff, then the delivery is marked failed. Sending is
at-least-once: a crash between the server's acceptance and our commit sends it again (an e-mail keeps its
Message-ID, so mail clients show it once). Error texts are kept without addresses or content.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications.adapters import repository
from notifications.adapters.contacts import ContactBox
from notifications.domain.messages import Guardians, Notice
from notifications.domain.preferences import pick_language
from notifications.service_layer.fanout import ChildNotKnownYet, preferences_from, publish
from notifications.service_layer.texts import Texts
from qosym_chassis import outbox
from qosym_chassis.clock import Clock
from qosym_contracts.notifications import NotificationDeliveredV1

log = logging.getLogger("notifications.delivery")


class EmailSender(Protocol):
    async def send(self, *, delivery_id: UUID, to: str, subject: str, body: str, language: str) -> None: ...


class SmsSender(Protocol):
    async def send(self, *, person_id: UUID, phone: str, text: str) -> None: ...


def safe_error(exc: BaseException) -> str:
    """The error's class and SMTP/HTTP code only: messages of mail servers may quote the address."""
    code = getattr(exc, "code", None) or getattr(exc, "status_code", None)
    return f"{type(exc).__name__}{f' {code}' if code else ''}"


@dataclass
class Deliverer:
    sessions: async_sessionmaker[AsyncSession]
    texts: Texts
    box: ContactBox
    clock: Clock
    email: EmailSender | None = None
    sms: SmsSender | None = None
    batch_size: int = 50
    max_attempts: int = 8

    async def deliver_due(self) -> int:
        """Send what is due now; the number sent."""
        sent = 0
        async with self.sessions() as session, session.begin():
            for row in await repository.claim_due_deliveries(session, self.clock.now(), self.batch_size):
                sent += await self._deliver(session, row)
        return sent

    async def _deliver(self, session: AsyncSession, row: dict[str, Any]) -> int:
        now = self.clock.now()
        person_id: UUID = row["person_id"]
        stored = await repository.get_preference(session, person_id)
        email = self.box.open(stored["email_enc"], person_id=person_id, field="email") if stored else None
        phone = self.box.open(stored["phone_enc"], person_id=person_id, field="phone") if stored else None
        preferences = preferences_from(stored, email=email, phone=phone)
        message = await repository.message_by_id(session, row["message_id"])
        if message is None or row["channel"] not in preferences.channels_for(message["kind"]):
            await repository.settle_delivery(
                session, row["id"], status="skipped", last_error="no consent or channel off"
            )
            return 0
        sender = self.email if row["channel"] == "email" else self.sms
        if sender is None:
            await repository.settle_delivery(
                session,
                row["id"],
                not_before=now + timedelta(minutes=1),
                last_error=f"no {row['channel']} server configured",
            )
            return 0
        quiet_until = preferences.quiet_until(now)
        if quiet_until is not None:
            await repository.settle_delivery(session, row["id"], not_before=quiet_until)
            return 0
        language = pick_language(preferences.language, None, self.texts.default_language)
        [text] = await self.texts.render(
            session, [repository.to_message({**message, "read_at": None})], language, preferences.timezone
        )
        attempts = row["attempts"] + 1
        try:
            if row["channel"] == "email":
                assert self.email is not None and email is not None
                await self.email.send(
                    delivery_id=row["id"], to=email, subject=text.title, body=text.body, language=language
                )
            else:
                assert self.sms is not None and phone is not None
                await self.sms.send(person_id=person_id, phone=phone, text=f"{text.title}\n{text.body}"[:1000])
        except Exception as exc:
            error = safe_error(exc)
            log.warning("delivery %s by %s failed (attempt %d): %s", row["id"], row["channel"], attempts, error)
            status = "failed" if attempts >= self.max_attempts else "pending"
            retry_in = timedelta(seconds=min(3600, 5 * 2 ** (attempts - 1)))
            await repository.settle_delivery(
                session, row["id"], attempts=attempts, status=status, not_before=now + retry_in, last_error=error
            )
            return 0
        await repository.settle_delivery(
            session, row["id"], attempts=attempts, status="sent", sent_at=now, last_error=None
        )
        await outbox.add_event(
            session,
            NotificationDeliveredV1(
                notification_id=row["message_id"],
                person_id=person_id,
                kind=message["kind"],
                channel=row["channel"],
                delivered_at=now,
            ),
        )
        return 1


async def fire_due_reminders(sessions: async_sessionmaker[AsyncSession], clock: Clock, limit: int = 100) -> int:
    """Reminders whose time has come become messages for the child's current guardians."""
    fired = 0
    async with sessions() as session, session.begin():
        now = clock.now()
        for row in await repository.claim_due_reminders(session, now, limit):
            payload = {**row["payload"], "deadline": row["deadline"].isoformat() if row["deadline"] else None}
            notice = Notice(row["kind"], Guardians(row["child_id"]), row["subject_id"], str(row["subject_id"]), payload)
            try:
                await publish(session, notice, row["id"], now)
            except ChildNotKnownYet:
                log.warning("reminder %s: the child's guardians are unknown; nobody to remind", row["id"])
            await repository.settle_reminder(session, row["id"], "fired")
            fired += 1
    return fired
