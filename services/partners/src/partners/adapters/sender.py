"""POST one webhook (httpx): the status code, or the transport error's name; never raises for the endpoint's faults.

In production (``private_allowed`` off) the endpoint's host name is resolved here and refused when any address it
resolves to is not public (docs: services/partners/README.md, "Endpoints"); the request then goes to the address
that was checked, with the name in the Host header and as the TLS server name (certificate checked against it), so
a second DNS answer cannot point the connection elsewhere."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from partners.domain.deliveries import is_public_address

Resolve = Callable[[str, int], Awaitable[list[str]]]
PRIVATE = "EndpointResolvesToPrivateAddress"


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    error: str | None


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address the machine's resolver gives for ``host`` (an IP literal is itself)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


class WebhookSender:
    def __init__(
        self,
        timeout_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        private_allowed: bool = False,
        resolve: Resolve = resolve_host,
    ) -> None:
        self._client = httpx.AsyncClient(timeout=timeout_s, follow_redirects=False, transport=transport)
        self._private_allowed = private_allowed
        self._resolve = resolve

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        headers = {**headers, "user-agent": "qosym-webhooks/1"}
        target = httpx.URL(url)
        extensions: dict[str, str] = {}
        if not self._private_allowed:
            try:
                addresses = await self._resolve(target.host, target.port or (443 if target.scheme == "https" else 80))
            except OSError as exc:
                return Answer(None, type(exc).__name__)
            if not addresses or not all(is_public_address(ipaddress.ip_address(a)) for a in addresses):
                return Answer(None, PRIVATE)
            headers["host"] = target.netloc.decode("ascii")
            extensions["sni_hostname"] = target.host
            target = target.copy_with(host=addresses[0])
        try:
            request = self._client.build_request("POST", target, content=body, headers=headers, extensions=extensions)
            response = await self._client.send(request)
        except httpx.HTTPError as exc:
            return Answer(None, type(exc).__name__)
        if 200 <= response.status_code < 300:
            return Answer(response.status_code, None)
        return Answer(response.status_code, f"HTTP {response.status_code}")

    async def close(self) -> None:
        await self._client.aclose()
