"""POST one webhook (httpx): the status code, or the transport error's name; never raises for the endpoint's faults."""

from __future__ import annotations

from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    error: str | None


class WebhookSender:
    def __init__(self, timeout_s: float, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._client = httpx.AsyncClient(timeout=timeout_s, follow_redirects=False, transport=transport)

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        try:
            response = await self._client.post(url, content=body, headers={**headers, "user-agent": "qosym-webhooks/1"})
        except httpx.HTTPError as exc:
            return Answer(None, type(exc).__name__)
        if 200 <= response.status_code < 300:
            return Answer(response.status_code, None)
        return Answer(response.status_code, f"HTTP {response.status_code}")

    async def close(self) -> None:
        await self._client.aclose()
