"""Benchmark the walking skeleton on a running stack (`qosym up` first).

Registers COUNT children through the registry API with CONCURRENCY clients, then waits until
allocation's projection holds all of them: HTTP throughput and latency, and how fast events flow
API -> outbox -> relay -> Kafka -> consumer.

    uv run python scripts/bench_registration.py --count 2000 --concurrency 32
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta

import asyncpg
import httpx

from qosym_chassis.iin import check_digit
from qosym_cli.stack import LocalStack
from qosym_cli.tokens import mint_token


def random_iin(rng: random.Random, first_born: date = date(2010, 1, 1)) -> str:
    century = "56" if first_born.year >= 2000 else "34"
    while True:
        born = first_born + timedelta(days=rng.randrange(365 * 9))
        first11 = f"{born:%y%m%d}{rng.choice(century)}{rng.randrange(10000):04d}"
        digit = check_digit(first11)
        if digit is not None:
            return first11 + str(digit)


async def register_all(stack: LocalStack, count: int, concurrency: int) -> tuple[list[float], list[str], float]:
    rng = random.Random()
    url = stack.api_url("registry")
    latencies: list[float] = []
    child_ids: list[str] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)

    async def client() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            parent = await http.post(
                "/v1/people",
                json={
                    "iin": random_iin(rng, date(1980, 1, 1)),
                    "phone": f"+7701{rng.randrange(10**7):07d}",
                    "consent": {"data_processing": True},
                },
                headers={"Authorization": f"Bearer {mint_token(stack.home, 'operator', 'bench-operator')}"},
            )
            parent.raise_for_status()
            token = mint_token(stack.home, "parent", parent.json()["id"], ttl_s=3600)
            headers = {"Authorization": f"Bearer {token}"}
            while not queue.empty():
                queue.get_nowait()
                body = {
                    "iin": random_iin(rng),
                    "region_code": "astana",
                    "district_code": rng.choice(["almaty", "baikonur", "yesil", "saryarka", "nura", "saraishyk"]),
                }
                started = time.perf_counter()
                response = await http.post("/v1/children", json=body, headers=headers)
                latencies.append(time.perf_counter() - started)
                if response.status_code == 201:
                    child_ids.append(response.json()["id"])

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return latencies, child_ids, time.perf_counter() - started


async def wait_for_projection(stack: LocalStack, child_ids: list[str], timeout_s: float = 600) -> float:
    conn = await asyncpg.connect(stack.state.database_urls["allocation"].replace("+asyncpg", ""))
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < timeout_s:
            seen = await conn.fetchval("select count(*) from child where child_id = any($1::uuid[])", child_ids)
            if seen == len(child_ids):
                return time.perf_counter() - started
            await asyncio.sleep(0.1)
    finally:
        await conn.close()
    raise TimeoutError("allocation did not receive every child")


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100)[int(share * 100) - 1]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    stack = LocalStack()
    began = time.perf_counter()
    latencies, child_ids, http_s = await register_all(stack, args.count, args.concurrency)
    drain_s = await wait_for_projection(stack, child_ids)
    total_s = time.perf_counter() - began
    print(
        f"date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine {platform.machine()}, "
        f"{len(os.sched_getaffinity(0))} cores; python {platform.python_version()}"
    )
    print(f"registrations: {len(child_ids)} created of {args.count} requests, concurrency {args.concurrency}")
    print(
        f"http: {len(latencies) / http_s:.0f} req/s; latency p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
        f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms, p99 {percentile(latencies, 0.99) * 1000:.0f} ms"
    )
    print(
        f"events: all {len(child_ids)} in allocation {drain_s:.1f} s after the last response; "
        f"end-to-end {len(child_ids) / total_s:.0f} children/s"
    )


if __name__ == "__main__":
    asyncio.run(main())
