"""SMS through the HTTP gateway protocol the registry uses for login codes.

``POST {base}/v1/messages {"to": "+7701…", "text": "…", "reference": "<person id>"}`` with an optional bearer
token; any 2xx means accepted. The phone and the text are never logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import httpx


@dataclass(frozen=True)
class HttpSmsGateway:
    base_url: str
    token: str | None = None
    timeout_s: float = 10.0
    transport: httpx.AsyncBaseTransport | None = None

    async def send(self, *, person_id: UUID, phone: str, text: str) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout_s, transport=self.transport) as http:
            response = await http.post(
                "/v1/messages", json={"to": phone, "text": text, "reference": str(person_id)}, headers=headers
            )
        if response.is_error:  # the status only: the request carried the phone and the text
            raise SmsRefused(f"the SMS gateway answered {response.status_code}")


class SmsRefused(Exception):
    pass
