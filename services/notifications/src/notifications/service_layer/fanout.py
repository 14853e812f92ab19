"""From a notice to messages in inboxes and deliveries to plan, inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.adapters import deliveries_repository, messages_repository, people_repository
from notifications.adapters import preferences_repository as preferences
from notifications.adapters.preferences_repository import StoredPreference
from notifications.domain import notices
from notifications.domain.messages import Guardians, NewMessage, Notice, addressed
from notifications.domain.preferences import Preferences, QuietHours
from notifications.service_layer.dependencies import Dependencies
from qosym_chassis import outbox
from qosym_chassis.parking import Park
from qosym_contracts.envelope import IntegrationEvent
from qosym_contracts.notifications import NotificationDeliveredV1


def guardians_known(child_id: UUID) -> str:
    """The parking key of a child's guardians: provided by every registry event about them (``people_news``)."""
    return f"guardians-of:{child_id}"


class ChildNotKnownYet(Park):
    """A message about a child whose guardians this service has not heard of yet: the event is parked until they
    are (docs/architecture.md, "Delivery", Parking), never retried nor dead-lettered."""

    def __init__(self, child_id: UUID) -> None:
        super().__init__(guardians_known(child_id), f"no guardian known for child {child_id} yet")


async def recipients(session: AsyncSession, notice: Notice) -> list[str]:
    if not isinstance(notice.target, Guardians):
        return [notice.target]
    known, guardians = await people_repository.guardians_of(session, notice.target.child_id)
    if not known:
        raise ChildNotKnownYet(notice.target.child_id)
    return [f"person:{g}" for g in guardians]  # none active: nobody to tell


async def publish(session: AsyncSession, notice: Notice, event_id: UUID, now: datetime) -> list[UUID]:
    """One message per recipient (none twice), with its planned e-mail and SMS deliveries; the new ids."""
    created = []
    for audience in await recipients(session, notice):
        message_id = await store(session, addressed(notice, audience, event_id), now)
        if message_id is not None:
            created.append(message_id)
    return created


async def publish_notices(deps: Dependencies, session: AsyncSession, event: IntegrationEvent) -> None:
    """An event whose meaning needs nothing but the event: its notices (``domain.notices.DIRECT``) published."""
    for notice in notices.DIRECT[type(event)](event):
        await publish(session, notice, event.event_id, deps.clock.now())


async def store(session: AsyncSession, new: NewMessage, now: datetime) -> UUID | None:
    message_id = await messages_repository.add_message(session, new)
    if message_id is None:
        return None
    if new.person_id is not None:
        await outbox.add_event(
            session,
            NotificationDeliveredV1(
                notification_id=message_id, person_id=new.person_id, kind=new.kind, channel="in_app", delivered_at=now
            ),
        )
    readers = [new.person_id] if new.person_id is not None else await preferences.members_of(session, new.audience)
    stored = await preferences.get_preferences(session, readers)
    for reader in readers:
        for channel in reachability(stored.get(reader)).channels_for(new.kind):
            await deliveries_repository.add_delivery(session, message_id, reader, channel, now)
    return message_id


def preferences_from(stored: StoredPreference | None, *, email: str | None, phone: str | None) -> Preferences:
    """Stored preferences as the rules see them, with the contact details the caller decrypted (or markers)."""
    if stored is None:
        return Preferences()
    quiet = (
        QuietHours(stored.quiet_start, stored.quiet_end)
        if stored.quiet_start is not None and stored.quiet_end is not None
        else None
    )
    return Preferences(
        language=stored.language,
        timezone=stored.timezone,
        email=email,
        phone=phone,
        channels=dict(stored.channels),
        quiet_hours=quiet,
    )


def reachability(stored: StoredPreference | None) -> Preferences:
    """Enough to plan deliveries: which addresses exist (without decrypting them)."""
    if stored is None:
        return Preferences()
    present = "present"
    return preferences_from(
        stored,
        email=present if stored.email_enc is not None else None,
        phone=present if stored.phone_enc is not None else None,
    )
