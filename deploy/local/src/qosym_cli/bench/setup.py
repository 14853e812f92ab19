"""Set-up through the public APIs, as ``qosym region apply`` and the demo seeding do (not measured, but reported)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from qosym_cli.allocation_cmds import problem_lines
from qosym_cli.bench import load
from qosym_cli.bench.common import BenchError, Figure, wait_until_quiet
from qosym_cli.bench.load import Load, Request
from qosym_cli.bench.synth import ChildSpec, PersonSpec
from qosym_cli.services import service_env
from qosym_cli.stack import LocalStack
from qosym_cli.tokens import mint_token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def expect(response: httpx.Response, *statuses: int) -> Any:
    if response.status_code not in statuses:
        detail = "; ".join(problem_lines(response))
        raise BenchError(f"{response.request.method} {response.request.url.path}: {detail}")
    return response.json() if response.content else None


def quiet(stack: LocalStack, timeout_s: float = 600) -> float:
    return asyncio.run(wait_until_quiet(stack, timeout_s))


def apply_region(stack: LocalStack, document: dict[str, Any]) -> None:
    """PUT the region file through allocation's API (``qosym region apply``), then wait until every service
    that projects regions has applied it (the pipeline at rest)."""
    admin = mint_token(stack.home, "administrator", "qosym-bench")
    with httpx.Client(base_url=stack.api_url("allocation"), headers=bearer(admin), timeout=60) as client:
        expect(client.put(f"/v1/regions/{document['code']}", json=document), 200, 201)
    quiet(stack)


def open_round(stack: LocalStack, document: dict[str, Any], quotas: dict[str, dict[str, int]], name: str) -> str:
    """A round in the region with these quotas and a budget for every quota seat, open now for a day."""
    admin = mint_token(stack.home, "administrator", "qosym-bench")
    monthly, months = document["voucher"]["monthly_value"], document["voucher"]["months"]
    budget = sum(count * monthly[direction] * months for row in quotas.values() for direction, count in row.items())
    now = datetime.now(UTC)
    with httpx.Client(base_url=stack.api_url("allocation"), headers=bearer(admin), timeout=60) as client:
        created = expect(
            client.post(
                "/v1/rounds",
                json={
                    "region_code": document["code"],
                    "name": f"{name} {uuid.uuid4().hex[:6]}",
                    "budget_tiyn": budget,
                    "quotas": quotas,
                    "application_opens_at": (now - timedelta(minutes=1)).isoformat(),
                    "application_closes_at": (now + timedelta(days=1)).isoformat(),
                    "reference_date": str(date.today()),
                    "voucher_valid_until": str(date.today() + timedelta(days=300)),
                },
            ),
            201,
        )
        round_id = str(created["round_id"])
        expect(client.post(f"/v1/rounds/{round_id}/open"), 200)
    return round_id


SETUP_RETRIES = 8  # set-up requests answered 5xx (a loaded stack out of connections) are sent again


def register_people(
    stack: LocalStack, people: list[PersonSpec], region: str, concurrency: int, retries: int = SETUP_RETRIES
) -> tuple[list[str], Figure]:
    """Each person registered at once by an operator of the region (a service point: no SMS code)."""
    operator = bearer(mint_token(stack.home, "operator", "qosym-bench-operator", ttl_s=86400, scope={"region": region}))
    requests = [
        Request("POST", "/v1/people", {"iin": p.iin, "phone": p.phone, "consent": {"data_processing": True}}, operator)
        for p in people
    ]
    answers = load.run(Load(stack.api_url("registry"), requests, concurrency, keep_bodies=True, retries=retries))
    ids = [str(body["id"]) if body else "" for body in answers.bodies]
    return ids, answers.latencies.figure("register a person (operator)")


def register_children(
    stack: LocalStack,
    parents: list[str],
    children: list[list[ChildSpec]],
    region: str,
    concurrency: int,
    retries: int = SETUP_RETRIES,
) -> tuple[list[list[str]], Figure]:
    """Each parent (a development token for their person id) registers their children."""
    requests, owners = [], []
    for parent_id, kids in zip(parents, children, strict=True):
        if not parent_id:
            continue
        headers = bearer(mint_token(stack.home, "parent", parent_id, ttl_s=86400))
        for kid in kids:
            requests.append(
                Request(
                    "POST",
                    "/v1/children",
                    {"iin": kid.iin, "region_code": region, "district_code": kid.district},
                    headers,
                )
            )
            owners.append(parent_id)
    answers = load.run(Load(stack.api_url("registry"), requests, concurrency, keep_bodies=True, retries=retries))
    by_parent: dict[str, list[str]] = {}
    for owner, body in zip(owners, answers.bodies, strict=True):
        by_parent.setdefault(owner, []).append(str(body["id"]) if body else "")
    return [by_parent.get(p, []) for p in parents], answers.latencies.figure("register a child (parent)")


def apply_all(
    stack: LocalStack,
    round_id: str,
    parents: list[str],
    child_ids: list[list[str]],
    children: list[list[ChildSpec]],
    concurrency: int,
    retries: int = SETUP_RETRIES,
) -> tuple[list[str], Figure]:
    requests = []
    for parent_id, ids, kids in zip(parents, child_ids, children, strict=True):
        headers = bearer(mint_token(stack.home, "parent", parent_id, ttl_s=86400)) if parent_id else {}
        for child_id, kid in zip(ids, kids, strict=False):
            if child_id:
                body = {"child_id": child_id, "direction": kid.direction}
                requests.append(Request("POST", f"/v1/rounds/{round_id}/applications", body, headers))
    answers = load.run(Load(stack.api_url("allocation"), requests, concurrency, keep_bodies=True, retries=retries))
    ids = [str(b.get("application_id") or b.get("id")) for b in answers.bodies if b]
    return ids, answers.latencies.figure("apply for a voucher (parent)")


def run_import(
    stack: LocalStack, service: str, records: list[dict[str, Any]], concurrency: int
) -> list[dict[str, Any]]:
    """``python -m SERVICE import`` with the service's own environment (what ``qosym up`` gives its processes):
    each record through the service's use cases, without HTTP. Returns each record's result, in order."""
    record = stack.state.processes[f"{service}-api"]
    folder = stack.home / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / f"{service}-import-{uuid.uuid4().hex[:8]}.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    command = [sys.executable, "-m", service, "import", str(source), "--concurrency", str(concurrency)]
    command += ["--actor", "qosym-bench"]
    env = {
        **service_env(stack.home, stack.state, record),
        "QOSYM_OTEL_TRACES_FILE": str(stack.home / "traces" / f"{service}-import.jsonl"),
        "OTEL_TRACES_SAMPLER": "always_off",  # a set-up's spans: a fifth of the importer's time, read by nobody
    }
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    source.unlink()
    answers = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    refused = [a for a in answers if "error" in a]
    if done.returncode != 0 or len(answers) != len(records):
        first = refused[0]["error"] if refused else done.stderr.strip()[-2000:]
        raise BenchError(f"{service} import: {len(refused)} of {len(records)} records refused; first: {first}")
    return [a["result"] for a in answers]


def import_families(
    stack: LocalStack, people: list[PersonSpec], children: list[list[ChildSpec]], region: str, concurrency: int
) -> tuple[list[str], list[list[str]], Figure]:
    """Every family through ``python -m registry import`` (the person as an operator registers them, then their
    children), instead of two HTTP requests per person and child."""
    records = [
        {
            "iin": person.iin,
            "phone": person.phone,
            "consent": {"data_processing": True},
            "children": [{"iin": k.iin, "region_code": region, "district_code": k.district} for k in kids],
        }
        for person, kids in zip(people, children, strict=True)
    ]
    (results, seconds) = timed(lambda: run_import(stack, "registry", records, concurrency))
    figure = Figure("register families (python -m registry import)", sum(1 + len(k) for k in children), seconds)
    return [r["person_id"] for r in results], [list(r["children"]) for r in results], figure


def import_applications(
    stack: LocalStack,
    round_id: str,
    parents: list[str],
    child_ids: list[list[str]],
    children: list[list[ChildSpec]],
    concurrency: int,
) -> tuple[list[str], Figure]:
    """Every application through ``python -m allocation import`` (each as its guardian applies)."""
    records = [
        {"round_id": round_id, "guardian_id": parent, "child_id": child, "direction": kid.direction}
        for parent, ids, kids in zip(parents, child_ids, children, strict=True)
        for child, kid in zip(ids, kids, strict=True)
    ]
    (results, seconds) = timed(lambda: run_import(stack, "allocation", records, concurrency))
    return [r["application_id"] for r in results], Figure("apply (python -m allocation import)", len(records), seconds)


def timed(action: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started
