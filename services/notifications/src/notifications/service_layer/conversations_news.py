"""The conversations service's news: a new message reaches the other side of its thread.

The event carries ids only (docs/architecture.md, "Invariants"): the notice names the thread and what it is
about, never the text, which the reader opens through the conversations API. Each guardian named is told
directly, a provider's staff through the provider's inbox (``provider:<id>``, as enrolment requests reach them),
the consultation point through the region's operators (``operators:<region>``). The author is never told of their
own message (``domain.notices.message_posted`` leaves them out). One message per recipient and posted message: a redelivery (the
chassis inbox) or a replay (the ``(audience, dedup_key)`` key) adds nothing.

Runs inside the consumer wrapper's transaction (docs/architecture.md, "Delivery").
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.domain import notices
from notifications.service_layer.dependencies import Dependencies
from notifications.service_layer.fanout import publish
from qosym_contracts.conversations import MessagePostedV1


async def on_message_posted(deps: Dependencies, session: AsyncSession, event: MessagePostedV1) -> None:
    now = deps.clock.now()
    for notice in notices.message_posted(event):
        await publish(session, notice, event.event_id, now)
