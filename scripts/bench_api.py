"""The request path under load on a running stack (`qosym up` first): register child + apply, and catalogue search,
each with the same server's `/health/live` at the same concurrency in the same run as the baseline.

    uv run python scripts/bench_api.py register --parents 64 --children 2000 --concurrency 32
    uv run python scripts/bench_api.py search --requests 6000 --rps 300

`register`: each client registers a parent (an operator's token), then children with the parent's real token
(`POST /v1/children` on the registry); once allocation's projection holds them, each child is applied for in the
demo's open Astana round (`POST /v1/rounds/{id}/applications` on allocation). `search`: public
`GET /v1/programmes` with varied filters, sent at a fixed rate (open loop; a late request is counted from when it
should have been sent). Prints one line per measurement (JSON with --json).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime

import asyncpg
import httpx

from qosym_cli.stack import LocalStack
from qosym_cli.tokens import mint_token
from scripts.bench_registration import random_iin

DISTRICTS = ["almaty", "yesil", "saryarka"]
DIRECTIONS = ["sports", "creativity", "intellectual"]
STATUSES: dict[int, int] = {}
"""status codes of refused requests (printed after the figures)"""


def summary(
    name: str, latencies: list[float], errors: int, seconds: float, baseline: float | None
) -> dict[str, object]:
    ordered = sorted(latencies) or [0.0]
    cut = statistics.quantiles(ordered, n=100) if len(ordered) > 1 else [ordered[0]] * 99
    rate = len(latencies) / seconds if seconds else 0.0
    return {
        "name": name,
        "n": len(latencies),
        "seconds": round(seconds, 2),
        "rate": round(rate, 1),
        "baseline": None if baseline is None else round(baseline, 1),
        "ratio": None if not baseline else round(rate / baseline, 3),
        "p50_ms": round(cut[49] * 1000, 1),
        "p95_ms": round(cut[94] * 1000, 1),
        "p99_ms": round(cut[98] * 1000, 1),
        "errors": errors,
    }


async def closed_loop(
    base_url: str, concurrency: int, jobs: list[Callable[[httpx.AsyncClient], Awaitable[bool]]]
) -> tuple[list[float], int, float]:
    """Run every job with ``concurrency`` clients; (latencies, errors, seconds)."""
    queue: asyncio.Queue[Callable[[httpx.AsyncClient], Awaitable[bool]]] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal errors
        while not queue.empty():
            job = queue.get_nowait()
            started = time.perf_counter()
            try:
                ok = await job(http)
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - started)
            errors += not ok

    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
        return latencies, errors, time.perf_counter() - started


async def health_baseline(base_url: str, concurrency: int, n: int) -> float:
    async def live(http: httpx.AsyncClient) -> bool:
        return (await http.get("/health/live")).status_code == 200

    latencies, _, seconds = await closed_loop(base_url, concurrency, [live] * n)
    return len(latencies) / seconds


async def open_round(stack: LocalStack) -> str:
    admin = {"Authorization": f"Bearer {mint_token(stack.home, 'administrator', 'bench-admin')}"}
    async with httpx.AsyncClient(base_url=stack.api_url("allocation"), timeout=30) as http:
        rounds = (await http.get("/v1/rounds", params={"region_code": "astana"}, headers=admin)).json()["items"]
    opened = [r for r in rounds if r.get("state") == "open"]
    if not opened:
        raise SystemExit("no open round in astana: start the stack with its demo data (qosym up)")
    return str(opened[0]["round_id"])


async def register(stack: LocalStack, args: argparse.Namespace) -> list[dict[str, object]]:
    rng = random.Random(args.seed)
    registry, allocation = stack.api_url("registry"), stack.api_url("allocation")
    operator = {
        "Authorization": f"Bearer {mint_token(stack.home, 'operator', 'bench-operator', scope={'region': 'astana'})}"
    }
    parents: list[dict[str, str]] = []
    async with httpx.AsyncClient(base_url=registry, timeout=60) as http:
        for _ in range(args.parents):
            body = {"iin": random_iin(rng, date(1980, 1, 1)), "phone": f"+7701{rng.randrange(10**7):07d}",
                    "consent": {"data_processing": True}}  # fmt: skip
            response = await http.post("/v1/people", json=body, headers=operator)
            response.raise_for_status()
            person = response.json()["id"]
            token = mint_token(stack.home, "parent", person, ttl_s=3600)
            parents.append({"id": person, "auth": f"Bearer {token}"})
    children: list[tuple[str, str]] = []  # (child id, parent's Authorization)

    def registration(parent: dict[str, str]) -> Callable[[httpx.AsyncClient], Awaitable[bool]]:
        async def job(http: httpx.AsyncClient) -> bool:
            body = {"iin": random_iin(rng), "region_code": "astana", "district_code": rng.choice(DISTRICTS)}
            response = await http.post(f"{registry}/v1/children", json=body, headers={"Authorization": parent["auth"]})
            if response.status_code == 201:
                children.append((response.json()["id"], parent["auth"]))
                return True
            STATUSES[response.status_code] = STATUSES.get(response.status_code, 0) + 1
            return False

        return job

    baseline = await health_baseline(registry, args.concurrency, args.baseline)
    jobs = [registration(parents[n % len(parents)]) for n in range(args.children)]
    latencies, errors, seconds = await closed_loop(registry, args.concurrency, jobs)
    results = [summary("register_child", latencies, errors, seconds, baseline)]
    await projected(stack, [c for c, _ in children])
    round_id = await open_round(stack)

    def application(child: str, auth: str) -> Callable[[httpx.AsyncClient], Awaitable[bool]]:
        async def job(http: httpx.AsyncClient) -> bool:
            body = {"child_id": child, "direction": rng.choice(DIRECTIONS)}
            response = await http.post(
                f"{allocation}/v1/rounds/{round_id}/applications", json=body, headers={"Authorization": auth}
            )
            if response.status_code != 201:
                STATUSES[response.status_code] = STATUSES.get(response.status_code, 0) + 1
            return response.status_code == 201

        return job

    baseline = await health_baseline(allocation, args.concurrency, args.baseline)
    latencies, errors, seconds = await closed_loop(allocation, args.concurrency, [application(*c) for c in children])
    results.append(summary("apply", latencies, errors, seconds, baseline))
    return results


async def projected(stack: LocalStack, child_ids: list[str], timeout_s: float = 600) -> None:
    conn = await asyncpg.connect(stack.state.database_urls["allocation"].replace("+asyncpg", ""))
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            seen = await conn.fetchval("select count(*) from child where child_id = any($1::uuid[])", child_ids)
            if seen == len(child_ids):
                return
            await asyncio.sleep(0.2)
    finally:
        await conn.close()
    raise SystemExit("allocation did not receive every child")


async def search(stack: LocalStack, args: argparse.Namespace) -> list[dict[str, object]]:
    rng = random.Random(args.seed)
    catalog = stack.api_url("catalog")
    queries = [
        {"region_code": "astana", **({"direction": d} if d else {}), **({"age": a} if a else {}), "limit": 20}
        for d in [None, *DIRECTIONS]
        for a in [None, 7, 10, 14]
    ]
    latencies: list[float] = []
    errors = 0
    interval = 1.0 / args.rps
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    gate = asyncio.Semaphore(args.concurrency)

    async def one(http: httpx.AsyncClient, due: float) -> None:
        nonlocal errors
        async with gate:
            try:
                ok = (await http.get("/v1/programmes", params=rng.choice(queries))).status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - due)  # from when it should have gone: lateness counts
            errors += not ok

    baseline = await health_baseline(catalog, args.concurrency, args.baseline)
    async with httpx.AsyncClient(base_url=catalog, timeout=60, limits=limits) as http:
        started = time.perf_counter()
        tasks = []
        for n in range(args.requests):
            due = started + n * interval
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(http, due)))
        await asyncio.gather(*tasks)
        seconds = time.perf_counter() - started
    return [summary(f"search@{args.rps}rps", latencies, errors, seconds, baseline)]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["register", "search"])
    parser.add_argument("--parents", type=int, default=64)
    parser.add_argument("--children", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--rps", type=float, default=300)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--baseline", type=int, default=3000, help="/health/live requests for the baseline")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    stack = LocalStack()
    results = await (register(stack, args) if args.what == "register" else search(stack, args))
    load = os.getloadavg()
    header = (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()} {len(os.sched_getaffinity(0))} cores, "
        f"python {platform.python_version()}, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}, "
        f"concurrency {args.concurrency}"
    )
    print(header)
    for result in results:
        print(json.dumps(result) if args.json else "  ".join(f"{k}={v}" for k, v in result.items()))
    if STATUSES:
        print(f"refused: {STATUSES}")


if __name__ == "__main__":
    asyncio.run(main())
