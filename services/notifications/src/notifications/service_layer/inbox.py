"""Reading an inbox: list, mark read, the live stream, and the reader's own preferences.

A reader reads the messages of their audiences (``messages.audiences_of``: their own, and their provider's or
region's as their token's scope says), each with the reader's own read state, rendered in their language.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import time
from typing import Any
from uuid import UUID

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications.adapters import repository
from notifications.adapters.contacts import ContactBox
from notifications.adapters.live import CLOSE, RESYNC, InboxHub
from notifications.domain.messages import KINDS, Message
from notifications.domain.preferences import LANGUAGES, pick_language, validate_channels
from notifications.service_layer.texts import RenderedMessage, Texts

Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True)
class Reader:
    person_id: UUID
    audiences: tuple[str, ...]
    accept_language: str | None = None


class PreferenceRejected(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Language:
    code: str
    timezone: str


async def language_of(session: AsyncSession, reader: Reader, texts: Texts) -> Language:
    stored = await repository.get_preference(session, reader.person_id)
    preferred = stored["language"] if stored else None
    return Language(
        code=pick_language(preferred, reader.accept_language, texts.default_language),
        timezone=stored["timezone"] if stored else texts.default_timezone,
    )


async def render_for(
    session: AsyncSession, reader: Reader, texts: Texts, messages: list[Message]
) -> list[RenderedMessage]:
    language = await language_of(session, reader, texts)
    return await texts.render(session, messages, language.code, language.timezone)


async def mark_read(sessions: Sessions, texts: Texts, reader: Reader, message_id: UUID) -> RenderedMessage | None:
    async with sessions() as session, session.begin():
        message = await repository.mark_read(session, message_id, reader.audiences, reader.person_id)
        if message is None:
            return None
        [rendered] = await render_for(session, reader, texts, [message])
    return rendered


async def unread(sessions: Sessions, reader: Reader) -> int:
    async with sessions() as session:
        return await repository.unread_count(session, reader.audiences, reader.person_id)


# --- the live stream ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ready:
    unread: int
    last_event_id: int


async def stream(
    sessions: Sessions, hub: InboxHub, texts: Texts, reader: Reader, last_event_id: int | None
) -> AsyncIterator[Ready | RenderedMessage]:
    """``Ready`` once subscribed, then each message as it is committed (first the ones after ``last_event_id``).

    ``Ready`` waits until the hub LISTENs: a client that acts on it cannot commit a message the stream is not
    told about (the cursor is read after subscribing, so nothing committed in between is skipped either).
    Ends when the server shuts down; the client reconnects with the last id it saw and misses nothing.
    """
    queue = hub.subscribe(reader.audiences)
    sent: dict[UUID, None] = {}
    try:
        await hub.listening.wait()
        async with sessions() as session:
            cursor = (
                last_event_id if last_event_id is not None else await repository.last_seq(session, reader.audiences)
            )
            count = await repository.unread_count(session, reader.audiences, reader.person_id)
        yield Ready(unread=count, last_event_id=cursor)
        if last_event_id is not None:
            queue.put_nowait(RESYNC)
        while True:
            item = await queue.get()
            if item == CLOSE:
                return
            async with sessions() as session:
                if item == RESYNC:
                    batch = await repository.messages_after(session, reader.audiences, reader.person_id, cursor)
                else:
                    one = await repository.message_for(session, UUID(item), reader.audiences, reader.person_id)
                    batch = [one] if one is not None else []
                fresh = [m for m in batch if m.id not in sent]
                rendered = await render_for(session, reader, texts, fresh) if fresh else []
            for message in rendered:
                sent[message.id] = None
                if len(sent) > 10_000:
                    sent.pop(next(iter(sent)))
                cursor = max(cursor, message.seq)
                yield message
            await asyncio.sleep(0)
    finally:
        hub.unsubscribe(queue)


# --- preferences ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreferencesView:
    language: str | None
    timezone: str
    email: str | None
    email_consent_at: Any
    phone: str | None
    phone_consent_at: Any
    channels: dict[str, list[str]]
    quiet_start: time | None
    quiet_end: time | None


async def read_preferences(sessions: Sessions, box: ContactBox, texts: Texts, person_id: UUID) -> PreferencesView:
    async with sessions() as session:
        row = await repository.get_preference(session, person_id)
    if row is None:
        return PreferencesView(None, texts.default_timezone, None, None, None, None, {}, None, None)
    return PreferencesView(
        language=row["language"],
        timezone=row["timezone"],
        email=box.open(row["email_enc"], person_id=person_id, field="email"),
        email_consent_at=row["email_consent_at"],
        phone=box.open(row["phone_enc"], person_id=person_id, field="phone"),
        phone_consent_at=row["phone_consent_at"],
        channels=dict(row["channels"] or {}),
        quiet_start=row["quiet_start"],
        quiet_end=row["quiet_end"],
    )


@dataclass(frozen=True)
class PreferencesChange:
    language: str
    timezone: str
    email: str | None  # None: none given, or consent withdrawn (the stored address is deleted)
    phone: str | None
    channels: dict[str, list[str]]
    quiet_start: time | None
    quiet_end: time | None


async def change_preferences(sessions: Sessions, box: ContactBox, reader: Reader, change: PreferencesChange) -> None:
    """Replace the reader's preferences; record which group audiences they belong to (from their token)."""
    if change.language not in LANGUAGES:
        raise PreferenceRejected("language", "one of kk, ru, en")
    problems = validate_channels(change.channels, KINDS)
    if problems:
        raise PreferenceRejected(*problems[0])
    person = reader.person_id
    values: dict[str, Any] = {
        "language": change.language,
        "timezone": change.timezone,
        "channels": change.channels,
        "quiet_start": change.quiet_start,
        "quiet_end": change.quiet_end,
    }
    for field in ("email", "phone"):
        address = getattr(change, field)
        # every change that keeps an address re-affirms consent to it; without one the stored address is deleted
        values[f"{field}_enc"] = box.seal(address, person_id=person, field=field) if address else None
        values[f"{field}_consent_at"] = func.now() if address else None
    async with sessions() as session, session.begin():
        await repository.put_preference(session, person, values)
        await repository.set_memberships(session, person, reader.audiences)
