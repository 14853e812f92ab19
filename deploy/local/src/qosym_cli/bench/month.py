"""``qosym bench month --enrolments N``: a month-end of N enrolments, from the first timesheet submission until
the month's payment batch is built and every consumer caught up; then the ledger is reconciled.

Set-up through the APIs (reported, not the figure): a synthetic region; N children in families; a round whose
quotas award every one of them, allocated; providers with three programmes each (one per direction); each child
enrolled in a programme of its voucher's direction (the saga confirms it); the pipeline let come to rest. Then
attendance's API process is restarted with its clock on the 2nd of next month (``QOSYM_CLOCK_OFFSET_S``, development
mode, as the end-to-end journeys do), and every group marked attended (the providers' month of marking; not timed).

Measured: every provider submits its month, every parent confirms their children's months (``POST
/v1/timesheets/confirm``), payments posts the accruals (lag 0, backlog 0), an administrator prepares the month's
batch (``POST /v1/batches``), and every consumer catches up. Attendance's API is put back on the real clock after.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from qosym_cli.bench import load, setup, synth
from qosym_cli.bench.catalog import provider
from qosym_cli.bench.common import (
    BenchError,
    Figure,
    connect,
    copy_baseline,
    kafka_baseline,
    marks,
    produced_since,
    server_url,
    troubles,
    wait_until_quiet,
)
from qosym_cli.bench.load import Load, Request
from qosym_cli.bench.round import Outcome, quotas_for
from qosym_cli.bench.setup import bearer, expect
from qosym_cli.stack import LocalStack
from qosym_cli.tokens import mint_token

PER_PROGRAMME = 1000  # seats per programme (a facility holds up to 10,000)


def next_month_at(now: datetime, zone: ZoneInfo) -> datetime:
    local = now.astimezone(zone)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime(year, month, 2, 10, tzinfo=zone)


def restart_attendance_api(stack: LocalStack, offset_s: int) -> None:
    """Stop attendance's API process (SIGTERM, waiting for it) and start it again with this clock offset."""
    record = stack.reload().processes["attendance-api"]
    if record.pid is not None and stack.is_running(record):
        os.kill(int(record.pid), signal.SIGTERM)
        deadline = time.monotonic() + 30
        while stack.is_running(record):
            if time.monotonic() > deadline:
                os.kill(int(record.pid), signal.SIGKILL)
            time.sleep(0.1)
    previous = os.environ.get("QOSYM_CLOCK_OFFSET_S")
    os.environ["QOSYM_CLOCK_OFFSET_S"] = str(offset_s)
    try:
        stack.start_services()
        stack.wait_until_ready(timeout_s=180)
    finally:
        if previous is None:
            del os.environ["QOSYM_CLOCK_OFFSET_S"]
        else:
            os.environ["QOSYM_CLOCK_OFFSET_S"] = previous


async def _count(url: str, sql: str, *args: Any) -> int:
    conn = await connect(url)
    try:
        return int(await conn.fetchval(sql, *args))
    finally:
        await conn.close()


def count(stack: LocalStack, service: str, sql: str, *args: Any) -> int:
    return asyncio.run(_count(server_url(stack, service), sql, *args))


def run(stack: LocalStack, enrolments: int, seed: int, concurrency: int, timeout_s: float) -> Outcome:
    outcome = Outcome()
    started_at = datetime.now(UTC)
    region = synth.region(seed, "month")
    code = region["code"]
    zone = ZoneInfo(region["timezone"])
    setup.apply_region(stack, region)
    families = synth.families(seed, "month", enrolments, synth.districts(region), date.today())
    people = [person for person, _ in families]
    children = [kids for _, kids in families]
    parents, figure = setup.register_people(stack, people, code, concurrency)
    outcome.figures.append(_setup(figure))
    child_ids, figure = setup.register_children(stack, parents, children, code, concurrency)
    outcome.figures.append(_setup(figure))
    setup.quiet(stack, timeout_s)
    round_id = setup.open_round(stack, region, quotas_for(children, share=1.0), f"bench month seed {seed}")
    _, figure = setup.apply_all(stack, round_id, parents, child_ids, children, concurrency)
    outcome.figures.append(_setup(figure))
    setup.quiet(stack, timeout_s)
    admin = bearer(mint_token(stack.home, "administrator", "qosym-bench"))
    with httpx.Client(base_url=stack.api_url("allocation"), headers=admin, timeout=timeout_s) as allocation:
        expect(allocation.post(f"/v1/rounds/{round_id}/close", json={"reason": "schedule_change"}), 200)
        summary = expect(allocation.post(f"/v1/rounds/{round_id}/allocate"), 200)
    if summary["awarded"] != enrolments:
        raise BenchError(f"the round awarded {summary['awarded']} of {enrolments} vouchers")
    setup.quiet(stack, timeout_s)

    per_direction: dict[str, int] = defaultdict(int)
    for kids in children:
        for kid in kids:
            per_direction[kid.direction] += 1
    providers_needed = max(1, -(-max(per_direction.values()) // PER_PROGRAMME))
    ids = synth.Identities(synth.rng_for(seed, "month:providers"))
    staff: dict[str, dict[str, str]] = {}
    owned: dict[str, list[str]] = {}
    seats: dict[str, list[str]] = defaultdict(list)  # direction -> programme ids
    programmes: list[str] = []
    with httpx.Client(base_url=stack.api_url("catalog"), timeout=60) as catalog:
        for n in range(providers_needed):
            provider_id, made = provider(catalog, stack.home, region, ids, n, capacity=PER_PROGRAMME)
            staff[provider_id] = bearer(
                mint_token(stack.home, "provider_staff", "qosym-bench", scope={"provider": provider_id}, ttl_s=86400)
            )
            for direction, programme_id in zip(synth.DIRECTIONS, made, strict=True):
                seats[direction].append(programme_id)
            programmes += made
            owned[provider_id] = made
    setup.quiet(stack, timeout_s)
    requests: list[Request] = []
    taken: dict[str, int] = defaultdict(int)
    for parent_id, ids_, kids in zip(parents, child_ids, children, strict=True):
        headers = bearer(mint_token(stack.home, "parent", parent_id, ttl_s=86400))
        for child_id, kid in zip(ids_, kids, strict=True):
            programme_id = seats[kid.direction][taken[kid.direction] // PER_PROGRAMME]
            taken[kid.direction] += 1
            requests.append(
                Request("POST", "/v1/enrolments", {"child_id": child_id, "programme_id": programme_id}, headers)
            )
    answers = load.run(Load(stack.api_url("catalog"), requests, concurrency, ok=(202,), retries=setup.SETUP_RETRIES))
    outcome.figures.append(_setup(answers.latencies.figure("request an enrolment (parent)")))
    setup.quiet(stack, timeout_s)
    confirmed = count(
        stack,
        "catalog",
        "select count(*) from enrolment where status = 'confirmed' and programme_id = any($1::uuid[])",
        programmes,
    )
    if confirmed != enrolments:
        raise BenchError(f"{confirmed} of {enrolments} enrolments confirmed")

    period = datetime.now(zone).strftime("%Y-%m")
    offset = int((next_month_at(datetime.now(UTC), zone) - datetime.now(UTC)).total_seconds())
    restart_attendance_api(stack, offset)
    try:
        figures, facts = _month_end(stack, code, period, staff, owned, parents, concurrency, timeout_s)
    finally:
        restart_attendance_api(stack, 0)
    outcome.figures += figures
    outcome.facts = {
        "region": code,
        "period": period,
        "enrolments": enrolments,
        "confirmed_enrolments": confirmed,
        **facts,
        "started_at": started_at.isoformat(),
    }
    outcome.notes.append(
        "set-up went through the APIs (rows marked 'set-up'); attendance's API ran with its clock on the 2nd of next "
        "month for the month-end (restarted, then put back); tokens are development tokens of the stack's key"
    )
    outcome.notes.append(
        "ratio: seconds measured / seconds of the baseline for the same n (month-end vs raw produce+consume of as many "
        "messages as its events; until accrued vs a raw COPY of n rows)"
    )
    if facts["accruals"] != enrolments or facts["batch_items"] < 1:
        outcome.problems.append(f"{facts['accruals']} accruals for {enrolments} enrolments; batch {facts['batch_id']}")
    if facts["errors"]:
        outcome.problems.append(f"{facts['errors']} month-end requests failed (see the figures' notes)")
    return outcome


def _month_end(
    stack: LocalStack,
    code: str,
    period: str,
    staff: dict[str, dict[str, str]],
    owned: dict[str, list[str]],
    parents: list[str],
    concurrency: int,
    timeout_s: float,
) -> tuple[list[Figure], dict[str, Any]]:
    attendance = stack.api_url("attendance")
    marking = [
        Request(
            "PUT", f"/v1/programmes/{programme_id}/timesheets/{period}/marks", {"all_scheduled": "attended"}, headers
        )
        for provider_id, headers in staff.items()
        for programme_id in owned[provider_id]
    ]
    marked = load.run(Load(attendance, marking, concurrency, retries=setup.SETUP_RETRIES))
    if marked.latencies.errors:
        raise BenchError(f"marking the groups: {marked.latencies.statuses}")
    setup.quiet(stack, timeout_s)
    before = troubles(stack)
    marks_at = marks(stack)

    began = time.monotonic()
    submits = [Request("POST", f"/v1/providers/{p}/timesheets/{period}/submit", None, h) for p, h in staff.items()]
    submitted = load.run(Load(attendance, submits, concurrency, keep_bodies=True))
    parent_headers = [bearer(mint_token(stack.home, "parent", p, ttl_s=86400)) for p in parents if p]
    months = load.run(
        Load(
            attendance,
            [Request("GET", "/v1/timesheets", None, h, {"period": period}) for h in parent_headers],
            concurrency,
            keep_bodies=True,
        )
    )
    confirms = [
        Request("POST", "/v1/timesheets/confirm", {"timesheet_ids": [m["id"] for m in body["items"]]}, headers)
        for headers, body in zip(parent_headers, months.bodies, strict=True)
        if body and body["items"]
    ]
    confirmed = load.run(Load(attendance, confirms, concurrency, keep_bodies=True))
    asyncio.run(wait_until_quiet(stack, timeout_s))
    accrued_at = time.monotonic()
    maker = str(uuid.uuid5(uuid.NAMESPACE_URL, "qosym-bench:batch-maker"))  # a staff account's id, as a batch needs
    admin = bearer(mint_token(stack.home, "administrator", maker))
    with httpx.Client(base_url=stack.api_url("payments"), headers=admin, timeout=timeout_s) as payments:
        batch = expect(payments.post("/v1/batches", json={"region_code": code, "period": period}), 201)
    settled = asyncio.run(wait_until_quiet(stack, timeout_s))
    produced = produced_since(stack, marks_at)
    after = troubles(stack)

    n = sum(len(body["confirmed"]) for body in confirmed.bodies if body)
    events = sum(produced.values())
    whole = Figure(
        "month: submit → confirm → accrue → batch, every consumer caught up",
        n,
        settled - began,
        note=f"{events} events: " + ", ".join(f"{s} {c}" for s, c in produced.items() if c),
    )
    kafka = asyncio.run(kafka_baseline(stack.state.kafka_bootstrap_servers or "", events))
    whole.compared_to(kafka.seconds)
    accrued = Figure("month: submit → confirm → accruals posted", n, accrued_at - began)
    copy = asyncio.run(copy_baseline(server_url(stack, "payments"), n))
    accrued.compared_to(copy.seconds)
    phases = [
        submitted.latencies.figure("month: providers submit (attendance API)"),
        months.latencies.figure("month: parents read their months (attendance API)"),
        confirmed.latencies.figure("month: parents confirm (attendance API)"),
    ]
    submitted_count = sum(int(body["submitted"]) for body in submitted.bodies if body)
    accruals = count(
        stack, "payments", "select count(*) from accrual where region_code = $1 and period = $2", code, period
    )
    facts = {
        "submitted": submitted_count,
        "confirmed": n,
        "accruals": accruals,
        "batch_id": batch["batch_id"],
        "batch_items": len(batch.get("items", [])),
        "batch_total_tiyn": batch["total_tiyn"],
        "events": events,
        "errors": sum(f.errors or 0 for f in phases),
        "new_dead_letters": after[0] - before[0],
        "new_parked": after[1] - before[1],
    }
    return [whole, accrued, *phases, copy, kafka], facts


def _setup(figure: Figure) -> Figure:
    figure.name = f"set-up: {figure.name}"
    return figure
