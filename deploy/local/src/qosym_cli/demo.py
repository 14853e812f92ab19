"""Demo data beyond the regions (deploy/demo/demo.yaml), created through the public APIs as users would.

Providers register, an operator verifies them, they record staff and facilities with attestations valid for a
year and publish programmes; an administrator opens a round per region; a family registers and applies. Every
step is idempotent, so a second ``qosym up`` changes nothing: a known BIN means the provider is there, a round
of the same name in the region is kept, people and children re-register to the same ids, and a repeated
application is refused (409) without effect.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml

from qosym_cli.seeding import SeedResult, problem_detail

Mint = Callable[..., str]  # mint(role, subject=None, scope=None) -> a development token


class DemoStepFailed(Exception):
    pass


@dataclass(frozen=True)
class DemoApis:
    registry: str
    allocation: str
    catalog: str


def load_demo(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def seed_demo(apis: DemoApis, mint: Mint, demo: dict[str, Any], today: date) -> list[SeedResult]:
    results = []
    with (
        httpx.Client(base_url=apis.catalog, timeout=15) as catalog,
        httpx.Client(base_url=apis.allocation, timeout=15) as allocation,
        httpx.Client(base_url=apis.registry, timeout=15) as registry,
    ):
        for provider in demo.get("providers", []):
            results.append(
                _outcome(f"provider {provider['name']}", lambda p=provider: _provider(catalog, mint, p, today))
            )
        rounds: dict[str, str] = {}
        for spec in demo.get("rounds", []):
            label = f"round {spec['region']}"
            results.append(_outcome(label, lambda s=spec: _round(allocation, mint, s, today, rounds)))
        if "family" in demo:
            results.append(_outcome("family", lambda: _family(registry, allocation, mint, demo["family"], rounds)))
    return results


def _outcome(label: str, step: Callable[[], str]) -> SeedResult:
    try:
        return SeedResult(label, True, step())
    except (DemoStepFailed, httpx.HTTPError) as error:
        return SeedResult(label, False, str(error))


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _expect(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    if response.status_code not in statuses:
        raise DemoStepFailed(
            f"{response.request.method} {response.request.url.path}: {response.status_code} {problem_detail(response)}"
        )
    body = response.json() if response.content else {}
    return body if isinstance(body, dict) else {"items": body}


def _eventually(
    call: Callable[[], httpx.Response], done: Callable[[httpx.Response], bool], what: str
) -> httpx.Response:
    """Projections fill from events: retry a call until it is answered as expected (60 s at most)."""
    deadline = time.monotonic() + 60
    while True:
        response = call()
        if done(response):
            return response
        if time.monotonic() > deadline:
            raise DemoStepFailed(f"{what}: {response.status_code} {problem_detail(response)}")
        time.sleep(0.5)


# --- providers ------------------------------------------------------------------------------------


def _provider(catalog: httpx.Client, mint: Mint, spec: dict[str, Any], today: date) -> str:
    body = {
        "bin": spec["bin"],
        "name": spec["name"],
        "region_code": spec["region"],
        "district_code": spec["district"],
        "address": spec["address"],
        "contacts": spec["contacts"],
        "bank": spec["bank"],
    }
    # catalog refuses a region it has not heard of yet (422 region_code): wait for its RegionConfigured
    registered = _eventually(
        lambda: catalog.post("/v1/providers", json=body, headers=_bearer(mint("provider_staff"))),
        lambda r: not (r.status_code == 422 and "unknown_region" in r.text),
        f"provider {spec['name']}",
    )
    if registered.status_code == 409:
        return "already there"
    provider_id = _expect(registered, 201)["id"]
    operator = _bearer(mint("operator", scope={"region": spec["region"]}))
    _expect(catalog.post(f"/v1/providers/{provider_id}/decision", json={"action": "verify"}, headers=operator), 200)
    staff = _bearer(mint("provider_staff", scope={"provider": provider_id}))
    valid_until = str(today + timedelta(days=365))

    def attest(subject_type: str, subject_id: str, kind: str) -> None:
        body = {
            "subject_type": subject_type,
            "subject_id": subject_id,
            "kind": kind,
            "number": f"DEMO-{kind[:3].upper()}-{subject_id[:8]}",
            "valid_until": valid_until,
        }
        _expect(catalog.post(f"/v1/providers/{provider_id}/attestations", json=body, headers=staff), 201)

    coaches = []
    for person in spec["staff"]:
        coach = _expect(catalog.post(f"/v1/providers/{provider_id}/staff", json=person, headers=staff), 201)["id"]
        attest("staff", coach, "criminal_record")
        attest("staff", coach, "qualification")
        coaches.append(coach)
    facilities = []
    for place in spec["facilities"]:
        facility = _expect(catalog.post(f"/v1/providers/{provider_id}/facilities", json=place, headers=staff), 201)
        attest("facility", facility["id"], "sanitary")
        attest("facility", facility["id"], "fire")
        facilities.append(facility["id"])
    for programme in spec["programmes"]:
        body = {key: value for key, value in programme.items() if key not in ("coach", "facility")}
        body.update(
            description=body.get("description", body["title"]),
            district_code=spec["district"],
            address=spec["address"],
            coach_ids=[coaches[programme["coach"]]],
            facility_id=facilities[programme["facility"]],
        )
        _expect(catalog.post(f"/v1/providers/{provider_id}/programmes", json=body, headers=staff), 201)
    return f"verified, {len(spec['programmes'])} programmes"


# --- rounds ---------------------------------------------------------------------------------------


def _round(allocation: httpx.Client, mint: Mint, spec: dict[str, Any], today: date, opened: dict[str, str]) -> str:
    region = spec["region"]
    existing = [r for r in _expect(allocation.get("/v1/rounds", params={"region_code": region}), 200)["items"]]
    same = [r for r in existing if r["name"] == spec["name"]]
    if same:
        opened[region] = same[0]["round_id"]
        return f"already there ({same[0]['state']})"
    admin = _bearer(mint("administrator"))
    config = _expect(allocation.get(f"/v1/regions/{region}"), 200)["config"]
    monthly, months = config["voucher"]["monthly_value"], config["voucher"]["months"]
    budget = sum(
        count * monthly[direction] * months for cells in spec["quotas"].values() for direction, count in cells.items()
    )
    now = datetime.now(UTC)
    created = _expect(
        allocation.post(
            "/v1/rounds",
            json={
                "region_code": region,
                "name": spec["name"],
                "budget_tiyn": budget,
                "quotas": spec["quotas"],
                "application_opens_at": (now - timedelta(minutes=1)).isoformat(),
                "application_closes_at": (now + timedelta(days=spec["days_open"])).isoformat(),
                "reference_date": str(today),
                "voucher_valid_until": str(today + timedelta(days=300)),
            },
            headers=admin,
        ),
        201,
    )
    round_id = str(created["round_id"])
    _expect(allocation.post(f"/v1/rounds/{round_id}/open", headers=admin), 200)
    opened[region] = round_id
    return f"open until {spec['days_open']} days from now ({round_id})"


# --- a family -------------------------------------------------------------------------------------


def _family(
    registry: httpx.Client, allocation: httpx.Client, mint: Mint, spec: dict[str, Any], rounds: dict[str, str]
) -> str:
    person = registry.post(  # as an operator at a service point: the person at once, without an SMS code
        "/v1/people",
        json={"iin": spec["parent_iin"], "phone": spec["phone"], "consent": {"data_processing": True}},
        headers=_bearer(mint("operator", scope={"region": spec["region"]})),
    )
    parent_id = str(_expect(person, 200, 201)["id"])
    parent = _bearer(mint("parent", subject=parent_id))
    round_id = rounds.get(spec["region"])
    applied = 0
    for child in spec["children"]:
        body = {"iin": child["iin"], "region_code": spec["region"], "district_code": spec["district"]}
        registered = _eventually(  # registry learns the region from allocation's event
            lambda b=body: registry.post("/v1/children", json=b, headers=parent),
            lambda r: r.status_code in (200, 201),
            "registering a demo child",
        )
        child_id = registered.json()["id"]
        if round_id is None:
            continue
        answer = _eventually(  # allocation learns the child and its guardian from registry's events
            lambda c=child_id, d=child["direction"]: allocation.post(
                f"/v1/rounds/{round_id}/applications", json={"child_id": c, "direction": d}, headers=parent
            ),
            lambda r: r.status_code in (201, 409),
            "applying for a demo child",
        )
        applied += answer.status_code == 201
    return (
        f"parent {parent_id}, {len(spec['children'])} children, {applied} new applications "
        f"(act as them: uv run qosym token --role parent --subject {parent_id})"
    )
