"""Reading an inbox: list, count unread, mark read.

A reader reads the messages of their audiences (``messages.audiences_of``: their own, and their provider's or
region's as their token's scope says), each with the reader's own read state, rendered in their language.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.adapters import messages_repository, preferences_repository
from notifications.domain.messages import Message
from notifications.domain.preferences import pick_language
from notifications.service_layer.dependencies import Dependencies
from notifications.service_layer.texts import RenderedMessage, Texts
from qosym_chassis.errors import NotFound
from qosym_chassis.inputs import OffsetPage


@dataclass(frozen=True)
class Reader:
    person_id: UUID
    audiences: tuple[str, ...]
    accept_language: str | None = None


@dataclass(frozen=True)
class Language:
    code: str
    timezone: str


async def language_of(session: AsyncSession, reader: Reader, texts: Texts) -> Language:
    stored = await preferences_repository.get_preference(session, reader.person_id)
    preferred = stored.language if stored else None
    return Language(
        code=pick_language(preferred, reader.accept_language, texts.default_language),
        timezone=stored.timezone if stored else texts.default_timezone,
    )


async def render_for(
    session: AsyncSession, reader: Reader, texts: Texts, messages: list[Message]
) -> list[RenderedMessage]:
    language = await language_of(session, reader, texts)
    return await texts.render(session, messages, language.code, language.timezone)


async def list_inbox(deps: Dependencies, reader: Reader, *, unread_only: bool) -> OffsetPage[RenderedMessage]:
    """The reader's messages, newest first, one page (the request's limit and offset)."""
    async with deps.sessions() as session:

        async def render(messages: list[Message]) -> list[RenderedMessage]:
            return await render_for(session, reader, deps.texts, messages)

        return await messages_repository.inbox_page(
            session, reader.audiences, reader.person_id, unread_only=unread_only, transform=render
        )


async def mark_read(deps: Dependencies, reader: Reader, message_id: UUID) -> RenderedMessage:
    """Mark one of the reader's messages read for them; NotFound for anyone else's, the same as for none."""
    async with deps.sessions() as session, session.begin():
        message = await messages_repository.mark_read(session, message_id, reader.audiences, reader.person_id)
        if message is None:
            raise NotFound("no such message")
        [rendered] = await render_for(session, reader, deps.texts, [message])
    return rendered


async def unread(deps: Dependencies, reader: Reader) -> int:
    async with deps.sessions() as session:
        return await messages_repository.unread_count(session, reader.audiences, reader.person_id)
