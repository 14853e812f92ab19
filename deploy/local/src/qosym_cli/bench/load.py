"""HTTP load from a separate process (``multiprocessing``, spawned): the benchmark's own client must not share the
event loop, nor the interpreter lock, with the code that sets up and checks the run.

Two shapes: ``closed`` sends a list of requests with ``concurrency`` clients, each sending its next request when the
previous one is answered (throughput at that concurrency); ``open`` sends requests at a fixed rate for a fixed
duration whatever the answers take (latency at that rate; a request that cannot start on time starts late, and its
latency counts from when it was due).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from qosym_cli.bench.common import Latencies


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] | None = None


@dataclass(frozen=True)
class Load:
    base_url: str
    requests: list[Request]
    concurrency: int = 32
    rate: float | None = None  # requests per second: open loop, cycling through ``requests``
    duration_s: float = 10.0
    ok: tuple[int, ...] = (200, 201)
    keep_bodies: bool = False  # closed loop only: the JSON body of each answer, in request order
    retries: int = 0  # set-up only: send again after a 5xx or a failed connection (never for a measured load)


@dataclass
class Answers:
    latencies: Latencies
    bodies: list[Any]


def run(load: Load) -> Answers:
    """Run ``load`` in a freshly spawned process and return what it measured."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        answers: Answers = pool.apply(_in_process, (load,))
    return answers


def _in_process(load: Load) -> Answers:
    return asyncio.run(_open(load) if load.rate else _closed(load))


async def _closed(load: Load) -> Answers:
    result = Latencies()
    bodies: list[Any] = [None] * len(load.requests)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(load.requests)):
        queue.put_nowait(index)
    limits = httpx.Limits(max_connections=load.concurrency, max_keepalive_connections=load.concurrency)
    async with httpx.AsyncClient(base_url=load.base_url, timeout=60, limits=limits) as client:

        async def worker() -> None:
            while not queue.empty():
                index = queue.get_nowait()
                ok, body = await _send(client, load.requests[index], load, result, time.perf_counter())
                if ok and load.keep_bodies:
                    bodies[index] = body

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(load.concurrency)))
        result.elapsed_s = time.perf_counter() - started
    return Answers(result, bodies)


async def _open(load: Load) -> Answers:
    result = Latencies()
    assert load.rate
    total = max(1, int(load.rate * load.duration_s))
    interval = 1.0 / load.rate
    gate = asyncio.Semaphore(load.concurrency)
    limits = httpx.Limits(max_connections=load.concurrency, max_keepalive_connections=load.concurrency)
    async with httpx.AsyncClient(base_url=load.base_url, timeout=60, limits=limits) as client:

        async def one(index: int, due: float) -> None:
            async with gate:
                await _send(client, load.requests[index % len(load.requests)], load, result, due)

        started = time.perf_counter()
        tasks = []
        for index in range(total):
            due = started + index * interval
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(index, due)))
        await asyncio.gather(*tasks)
        result.elapsed_s = time.perf_counter() - started
    return Answers(result, [])


async def _send(
    client: httpx.AsyncClient, request: Request, load: Load, result: Latencies, due: float
) -> tuple[bool, Any]:
    result.sent += 1
    for attempt in range(load.retries + 1):
        try:
            response = await client.request(
                request.method, request.path, json=request.json, headers=request.headers, params=request.params
            )
        except httpx.HTTPError as error:
            if attempt < load.retries:
                result.retried += 1
                await asyncio.sleep(0.5 * (attempt + 1))
                continue
            result.errors += 1
            key = type(error).__name__
            result.statuses[key] = result.statuses.get(key, 0) + 1
            return False, None
        if response.status_code >= 500 and attempt < load.retries:
            result.retried += 1
            await asyncio.sleep(0.5 * (attempt + 1))
            continue
        break
    result.seconds.append(time.perf_counter() - due)
    key = str(response.status_code)
    result.statuses[key] = result.statuses.get(key, 0) + 1
    if response.status_code not in load.ok:
        result.errors += 1
        return False, None
    return True, (response.json() if load.keep_bodies and response.content else None)


def health_baseline(
    base_url: str, *, requests: int, concurrency: int, rate: float | None = None, duration_s: float = 10.0
) -> Answers:
    """The same load shape against ``/health/live`` of the same server (the trivial endpoint)."""
    return run(
        Load(base_url, [Request("GET", "/health/live")] * (1 if rate else requests), concurrency, rate, duration_s)
    )
