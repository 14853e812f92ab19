"""Demo data: the regions under deploy/regions, configured through the allocation API (see ``demo`` for the rest)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml


@dataclass(frozen=True)
class SeedResult:
    what: str
    ok: bool
    detail: str


def load_regions(folder: Path) -> list[dict[str, Any]]:
    return [yaml.safe_load(path.read_text()) for path in sorted(folder.glob("*.yaml"))]


def problem_detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("title") or body)[:300]
    return str(body)[:300]


def put_region(base_url: str, token: str, region: dict[str, Any]) -> SeedResult:
    code = str(region["code"])
    try:
        response = httpx.put(
            f"{base_url}/v1/regions/{code}",
            json=region,
            headers={"Authorization": f"Bearer {token}"},
            timeout=15.0,
        )
    except httpx.HTTPError as error:
        return SeedResult(f"region {code}", False, f"request failed: {error}")
    if response.is_success:
        return SeedResult(f"region {code}", True, str(response.status_code))
    return SeedResult(f"region {code}", False, f"{response.status_code}: {problem_detail(response)}")


def seed_regions(base_url: str, token: str, folder: Path) -> list[SeedResult]:
    return [put_region(base_url, token, region) for region in load_regions(folder)]
