"""From a notice to messages in inboxes and deliveries to plan, inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.adapters import repository
from notifications.domain.messages import Guardians, NewMessage, Notice, addressed
from notifications.domain.preferences import Preferences, QuietHours
from qosym_chassis import outbox
from qosym_contracts.notifications import NotificationDeliveredV1


class ChildNotKnownYet(Exception):
    """A message about a child whose guardians this service has not heard of yet: retried, then dead-lettered."""


async def recipients(session: AsyncSession, notice: Notice) -> list[str]:
    if not isinstance(notice.target, Guardians):
        return [notice.target]
    known, guardians = await repository.guardians_of(session, notice.target.child_id)
    if not known:
        raise ChildNotKnownYet(f"no guardian known for child {notice.target.child_id} yet")
    return [f"person:{g}" for g in guardians]  # none active: nobody to tell


async def publish(session: AsyncSession, notice: Notice, event_id: UUID, now: datetime) -> list[UUID]:
    """One message per recipient (none twice), with its planned e-mail and SMS deliveries; the new ids."""
    created = []
    for audience in await recipients(session, notice):
        message_id = await store(session, addressed(notice, audience, event_id), now)
        if message_id is not None:
            created.append(message_id)
    return created


async def store(session: AsyncSession, new: NewMessage, now: datetime) -> UUID | None:
    message_id = await repository.add_message(session, new)
    if message_id is None:
        return None
    if new.person_id is not None:
        await outbox.add_event(
            session,
            NotificationDeliveredV1(
                notification_id=message_id, person_id=new.person_id, kind=new.kind, channel="in_app", delivered_at=now
            ),
        )
    readers = [new.person_id] if new.person_id is not None else await repository.members_of(session, new.audience)
    stored = await repository.get_preferences(session, readers)
    for reader in readers:
        for channel in reachability(stored.get(reader)).channels_for(new.kind):
            await repository.add_delivery(session, message_id, reader, channel, now)
    return message_id


def preferences_from(row: dict[str, Any] | None, *, email: str | None, phone: str | None) -> Preferences:
    """A stored row as preferences, with the contact details the caller decrypted (or presence markers)."""
    if row is None:
        return Preferences()
    quiet = (
        QuietHours(row["quiet_start"], row["quiet_end"])
        if row["quiet_start"] is not None and row["quiet_end"] is not None
        else None
    )
    return Preferences(
        language=row["language"],
        timezone=row["timezone"],
        email=email,
        phone=phone,
        channels=dict(row["channels"] or {}),
        quiet_hours=quiet,
    )


def reachability(row: dict[str, Any] | None) -> Preferences:
    """Enough to plan deliveries: which addresses exist (without decrypting them)."""
    if row is None:
        return Preferences()
    present = "present"
    return preferences_from(
        row,
        email=present if row["email_enc"] is not None else None,
        phone=present if row["phone_enc"] is not None else None,
    )
