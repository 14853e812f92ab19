"""The state social-status registry: is this child in this category, and until when?

Contract (real path, ``QOSYM_STATE_REGISTRY_URL`` set)::

    POST {base}/v1/status-checks  {"iin": "180905600123", "category": "orphan"}
    200 {"confirmed": true, "valid_until": "2027-06-30" | null}

Local stand-in (URL unset): a JSON file ``QOSYM_STATE_REGISTRY_FILE`` mapping an IIN to its categories and
end dates, e.g. ``{"180905600123": {"orphan": "2027-06-30", "large_family": null}}``; a missing file or IIN
confirms nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

import httpx


@dataclass(frozen=True)
class StatusCheck:
    confirmed: bool
    valid_until: date | None = None


class StateRegistry(Protocol):
    async def check(self, *, iin: str, category: str) -> StatusCheck: ...


@dataclass
class HttpStateRegistry:
    base_url: str
    token: str | None = None
    timeout_s: float = 10.0
    transport: httpx.AsyncBaseTransport | None = None

    async def check(self, *, iin: str, category: str) -> StatusCheck:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout_s, transport=self.transport) as http:
            response = await http.post("/v1/status-checks", json={"iin": iin, "category": category}, headers=headers)
            response.raise_for_status()
        body = response.json()
        until = body.get("valid_until")
        return StatusCheck(bool(body["confirmed"]), date.fromisoformat(until) if until else None)


@dataclass(frozen=True)
class FileStateRegistry:
    path: Path | None

    async def check(self, *, iin: str, category: str) -> StatusCheck:
        if self.path is None or not self.path.exists():
            return StatusCheck(False)
        categories = json.loads(self.path.read_text()).get(iin, {})
        if category not in categories:
            return StatusCheck(False)
        until = categories[category]
        return StatusCheck(True, date.fromisoformat(until) if until else None)
