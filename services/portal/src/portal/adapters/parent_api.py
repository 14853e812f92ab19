"""What the parents' pages need beyond request/answer calls: relaying the notifications inbox's live stream
(server-sent events) to the browser, with the parent's token kept on the server (EventSource cannot send it, and
the browser never sees it)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from portal.config import PortalSettings


async def inbox_events(
    http: httpx.AsyncClient,
    settings: PortalSettings,
    access_token: str,
    language: str,
    last_event_id: str | None = None,
) -> AsyncIterator[bytes]:
    """The bytes of notifications' ``GET /v1/inbox/stream`` as they arrive (``ready``, then one ``message`` event
    per new inbox message; ``Last-Event-ID`` replays what a reconnecting browser missed). Ends quietly when the
    service goes away: the browser's EventSource reconnects by itself."""
    headers = {"Authorization": f"Bearer {access_token}", "Accept": "text/event-stream", "Accept-Language": language}
    if last_event_id and last_event_id.isdigit():
        headers["Last-Event-ID"] = last_event_id
    url = f"{settings.service_url('notifications')}/v1/inbox/stream"
    try:
        async with http.stream("GET", url, headers=headers, timeout=httpx.Timeout(10.0, read=None)) as upstream:
            if upstream.status_code != 200:
                yield b"event: unavailable\ndata: {}\n\n"
                return
            async for chunk in upstream.aiter_bytes():
                yield chunk
    except httpx.HTTPError:
        yield b"event: unavailable\ndata: {}\n\n"
