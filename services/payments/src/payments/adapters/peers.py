"""HTTP clients of the services reconciliation compares with: allocation (vouchers) and attendance (payable
timesheets). The caller's bearer token is forwarded, so a peer applies its own authorisation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx

PAGE = 100


class PeerUnavailable(Exception):
    def __init__(self, peer: str, detail: str) -> None:
        super().__init__(f"{peer}: {detail}")
        self.peer = peer


@dataclass(frozen=True)
class Peers:
    client: httpx.AsyncClient
    allocation_url: str
    attendance_url: str

    async def vouchers_of_round(self, round_id: UUID, token: str) -> list[dict[str, Any]]:
        return [
            item
            async for item in self._pages(
                "allocation", f"{self.allocation_url}/v1/rounds/{round_id}/vouchers", {}, token
            )
        ]

    async def payable_timesheets(self, region_code: str, period: str, token: str) -> list[dict[str, Any]]:
        url = f"{self.attendance_url}/v1/timesheets/payable"
        params = {"region_code": region_code, "period": period}
        return [item async for item in self._pages("attendance", url, params, token)]

    async def _pages(self, peer: str, url: str, params: dict[str, str], token: str) -> AsyncIterator[dict[str, Any]]:
        offset = 0
        while True:
            try:
                response = await self.client.get(
                    url,
                    params={**params, "limit": PAGE, "offset": offset},
                    headers={"Authorization": f"Bearer {token}"},
                )
            except httpx.HTTPError as exc:
                raise PeerUnavailable(peer, f"unreachable ({type(exc).__name__})") from exc
            if response.status_code != 200:
                raise PeerUnavailable(peer, f"answered {response.status_code} on {url}")
            page = response.json()
            items = page.get("items") or []
            for item in items:
                yield item
            offset += len(items)
            if not items or offset >= int(page.get("total") or 0):
                return


@asynccontextmanager
async def open_peers(allocation_url: str, attendance_url: str, timeout_s: float) -> AsyncIterator[Peers]:
    async with httpx.AsyncClient(timeout=timeout_s) as client:
        yield Peers(client, allocation_url.rstrip("/"), attendance_url.rstrip("/"))
