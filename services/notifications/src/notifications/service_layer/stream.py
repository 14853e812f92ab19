"""The live stream of an inbox, and the single-use tickets a browser opens it with."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications.adapters import messages_repository
from notifications.adapters.live import CLOSE, RESYNC, InboxHub
from notifications.service_layer.dependencies import Dependencies
from notifications.service_layer.inbox import Reader, render_for
from notifications.service_layer.texts import RenderedMessage, Texts
from qosym_chassis.auth import Principal
from qosym_chassis.errors import Unauthorized


@dataclass(frozen=True)
class Ready:
    unread: int
    last_event_id: int


@dataclass(frozen=True)
class Ticket:
    ticket: str
    expires_in: int


async def issue_ticket(deps: Dependencies, caller: Principal) -> Ticket:
    """A single-use ticket naming the caller (EventSource cannot send the bearer token)."""
    return Ticket(ticket=await deps.tickets.issue(caller), expires_in=deps.tickets.ttl_s)


async def redeem_ticket(deps: Dependencies, ticket: str) -> Principal:
    principal = await deps.tickets.redeem(ticket)
    if principal is None:
        raise Unauthorized("the stream ticket is unknown, used or expired: ask for a new one")
    return principal


def stream(deps: Dependencies, reader: Reader, last_event_id: int | None) -> AsyncIterator[Ready | RenderedMessage]:
    return messages_as_committed(deps.sessions, deps.live, deps.texts, reader, last_event_id)


async def messages_as_committed(
    sessions: async_sessionmaker[AsyncSession],
    hub: InboxHub,
    texts: Texts,
    reader: Reader,
    last_event_id: int | None,
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
                last_event_id
                if last_event_id is not None
                else await messages_repository.last_seq(session, reader.audiences)
            )
            count = await messages_repository.unread_count(session, reader.audiences, reader.person_id)
        yield Ready(unread=count, last_event_id=cursor)
        if last_event_id is not None:
            queue.put_nowait(RESYNC)
        while True:
            item = await queue.get()
            if item == CLOSE:
                return
            async with sessions() as session:
                if item == RESYNC:
                    batch = await messages_repository.messages_after(
                        session, reader.audiences, reader.person_id, cursor
                    )
                else:
                    one = await messages_repository.message_for(session, UUID(item), reader.audiences, reader.person_id)
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
