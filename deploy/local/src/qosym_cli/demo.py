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


def seed_demo(
    apis: DemoApis, mint: Mint, demo: dict[str, Any], today: date, staff_file: Path | None = None
) -> list[SeedResult]:
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
        if staff_file is not None:
            for account in demo.get("staff_accounts", []):
                label = f"staff {account['username']}"
                results.append(_outcome(label, lambda a=account: _staff(registry, catalog, mint, a, staff_file)))
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


# --- staff accounts --------------------------------------------------------------------------------

STAFF_FILE_HEAD = """# Demo staff accounts of this local stack

Sign in at the portal's `/staff/login` with the username, the password and the 6-digit code of an authenticator app
(add the account with its TOTP secret or `otpauth://` link). Generated by `qosym up` for this stack only; never
reuse them elsewhere. `qosym up --fresh` makes new ones.

| username | role | scope | password | TOTP secret | otpauth link |
|---|---|---|---|---|---|
"""


def _staff(registry: httpx.Client, catalog: httpx.Client, mint: Mint, spec: dict[str, Any], path: Path) -> str:
    """A staff account created once through registry's ``POST /v1/staff``; its one-time credentials appended to
    ``path`` (mode 0600), the only place they are ever written."""
    username = spec["username"]
    row_start = f"| `{username}` |"
    listed = _expect(registry.get("/v1/staff", params={"limit": 500}, headers=_bearer(mint("administrator"))), 200)
    known = {account["username"] for account in listed["items"]}
    written = path.read_text().splitlines(keepends=True) if path.exists() else []
    if any(line.startswith(row_start) for line in written):
        if username in known:
            return "already there"
        # the file outlived the registry's database (a stack started over without --fresh): its row is stale
        path.write_text("".join(line for line in written if not line.startswith(row_start)))
    scope: dict[str, str] = {}
    if "region" in spec:
        scope["region"] = spec["region"]
    if "provider_bin" in spec:
        admin = _bearer(mint("administrator"))
        listed = _expect(catalog.get("/v1/providers", params={"bin": spec["provider_bin"]}, headers=admin), 200)
        if not listed["items"]:
            raise DemoStepFailed(f"no provider with BIN {spec['provider_bin']}")
        scope["provider"] = str(listed["items"][0]["id"])
    body = {"username": username, "role": spec["role"], "scope": scope}
    created = registry.post("/v1/staff", json=body, headers=_bearer(mint("administrator")))
    if created.status_code == 409:
        return "exists already; its password was written when it was created (qosym up --fresh starts over)"
    account = _expect(created, 201)
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(STAFF_FILE_HEAD)
    path.chmod(0o600)
    shown = ", ".join(f"{k}: {v}" for k, v in scope.items()) or "all regions"
    row = (
        f"| `{username}` | {spec['role']} | {shown} | `{account['one_time_password']}` | `{account['totp_secret']}` "
        f"| `{account['totp_uri']}` |\n"
    )
    with path.open("a", encoding="utf-8") as out:
        out.write(row)
    return f"{spec['role']}, sign in with the password and TOTP secret in {path}"


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
