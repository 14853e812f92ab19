"""Real-time fan-out across processes with PostgreSQL LISTEN/NOTIFY.

The consumers process writes a message and, in the same transaction, ``NOTIFY notifications_inbox,
'<audience> <message id>'`` (delivered only at commit, so a stream never sees an uncommitted message). Each api
process holds one listening connection (``InboxHub``) and hands every notification to the open streams of that
audience; a stream then reads the message from the database, where its reader's authorisation is applied
again. The payload holds opaque ids only. When the listening connection is lost and comes back, every stream is
told to resynchronise from its last sequence number, so nothing published meanwhile is missed.

PostgreSQL rather than Redis pub/sub: the notification is part of the writing transaction (no message is
announced that was rolled back, none committed without an announcement), and the database is already there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.domain.messages import audience_matches

log = logging.getLogger("notifications.live")
CHANNEL = "notifications_inbox"
RESYNC = "resync"
CLOSE = "close"


async def announce(session: AsyncSession, audience: str, message_id: UUID) -> None:
    """Tell the streams of ``audience`` about a new message when the caller's transaction commits."""
    await session.execute(
        text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": f"{audience} {message_id}"}
    )


async def announce_all(session: AsyncSession, announced: list[tuple[str, UUID]]) -> None:
    """``announce`` for many new messages in one statement, in the given order."""
    if not announced:
        return
    await session.execute(
        text(
            "SELECT pg_notify(:channel, p) FROM unnest(CAST(:payloads AS text[])) WITH ORDINALITY AS u(p, n) ORDER BY n"
        ),
        {"channel": CHANNEL, "payloads": [f"{audience} {message_id}" for audience, message_id in announced]},
    )


class InboxHub:
    def __init__(self, dsn: str, *, health_interval_s: float = 30.0) -> None:
        self._dsn = dsn.replace("postgresql+asyncpg://", "postgresql://")
        self._health_interval_s = health_interval_s
        self._subscribers: dict[asyncio.Queue[str], tuple[str, ...]] = {}
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()

    def subscribe(self, audiences: tuple[str, ...]) -> asyncio.Queue[str]:
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=1000)
        self._subscribers[queue] = audiences
        return queue

    def unsubscribe(self, queue: asyncio.Queue[str]) -> None:
        self._subscribers.pop(queue, None)

    @property
    def streams(self) -> int:
        return len(self._subscribers)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="notifications-inbox-hub")

    async def stop(self) -> None:
        self.close_streams()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def close_streams(self) -> None:
        """End every open stream (the server is shutting down; clients reconnect elsewhere)."""
        self._broadcast(CLOSE)

    def _broadcast(self, item: str) -> None:
        for queue in list(self._subscribers):
            self._offer(queue, item)

    def _offer(self, queue: asyncio.Queue[str], item: str) -> None:
        try:
            queue.put_nowait(item)
        except asyncio.QueueFull:  # a stalled client: make it resynchronise from the database instead
            with contextlib.suppress(asyncio.QueueEmpty):
                while True:
                    queue.get_nowait()
            queue.put_nowait(RESYNC)

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        audience, _, message_id = payload.partition(" ")
        for queue, audiences in list(self._subscribers.items()):
            if audience_matches(audience, audiences):
                self._offer(queue, message_id)

    async def _run(self) -> None:
        delay = 0.5
        while True:
            try:
                conn = await asyncpg.connect(self._dsn)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("inbox hub cannot listen yet: %s", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            delay = 0.5
            try:
                await conn.add_listener(CHANNEL, self._on_notify)
                self.listening.set()
                self._broadcast(RESYNC)  # whatever was written while nobody listened
                while True:
                    await asyncio.sleep(self._health_interval_s)
                    await asyncio.wait_for(conn.fetchval("SELECT 1"), timeout=5)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("inbox hub lost its connection, listening again: %s", exc)
            finally:
                self.listening.clear()
                with contextlib.suppress(Exception):
                    await conn.close(timeout=2)
