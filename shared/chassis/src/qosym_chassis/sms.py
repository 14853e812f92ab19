"""The HTTP SMS gateway client (registry's one-time codes, notifications' messages).

Gateway contract: ``POST {base}/v1/messages {"to": "+7701…", "text": "…", "reference": "<person id>"}`` with an
optional bearer token → any 2xx means accepted. ``reference`` is the recipient's opaque person id (gateways that do
not know it ignore it; the development stand-in in notifications delivers to that person's inbox). The phone and
the text are never logged nor put into an error message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

import httpx


class SmsRefused(Exception):
    """The gateway answered with an error status (the request itself is not repeated here: it held the phone)."""


@dataclass
class HttpSmsGateway:
    """One client for the process's lifetime: a new ``httpx.AsyncClient`` per message built a TLS context each
    time (tens of milliseconds of CPU on the event loop, which made a login code request for a known IIN visibly
    slower than for an unknown one)."""

    base_url: str
    token: str | None = None
    timeout_s: float = 10.0
    transport: httpx.AsyncBaseTransport | None = None
    _http: httpx.AsyncClient = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout_s, transport=self.transport)

    async def send(self, *, person_id: UUID, phone: str, text: str) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = await self._http.post(
            "/v1/messages", json={"to": phone, "text": text, "reference": str(person_id)}, headers=headers
        )
        if response.is_error:
            raise SmsRefused(f"the SMS gateway answered {response.status_code}")

    async def aclose(self) -> None:
        await self._http.aclose()
