"""Driving the running stack from tests: its databases, its processes, its broker."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer

from qosym_cli.stack import LocalStack


def db_value(stack: LocalStack, service: str, sql: str, *args: Any) -> Any:
    async def run() -> Any:
        conn = await asyncpg.connect(stack.state.database_urls[service].replace("+asyncpg", ""))
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()

    return asyncio.run(run())


def kill(stack: LocalStack, name: str, sig: signal.Signals = signal.SIGKILL, grace_s: float = 30.0) -> None:
    """Signal a process of the stack and wait until it is gone; a SIGTERM not obeyed within ``grace_s`` is
    followed by SIGKILL (a graceful shutdown may be finishing a batch or leaving its consumer group)."""
    record = stack.reload().processes[name]
    assert record.pid is not None, f"{name} is not running"
    os.kill(int(record.pid), sig)
    deadline = time.monotonic() + (grace_s if sig != signal.SIGKILL else 5.0)
    while time.monotonic() < deadline:
        if not stack.is_running(record):
            return
        time.sleep(0.05)
    if sig != signal.SIGKILL:
        kill(stack, name, signal.SIGKILL)
        return
    raise AssertionError(f"{name} did not stop")


def restart_stopped_services(stack: LocalStack) -> list[str]:
    started = stack.start_services()
    stack.wait_until_ready(timeout_s=180)
    return started


def produce(stack: LocalStack, topic: str, value: bytes, key: bytes | None = None) -> None:
    async def run() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=stack.state.kafka_bootstrap_servers, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(topic, value, key=key)
        finally:
            await producer.stop()

    asyncio.run(run())


@contextmanager
def shifted_clock(
    stack: LocalStack,
    services: tuple[str, ...],
    offset_s: int,
    roles: tuple[str, ...] = ("api", "consumers", "relay"),
) -> Iterator[None]:
    """Run the services' processes with their clock shifted by ``offset_s`` (QOSYM_CLOCK_OFFSET_S, dev mode only).

    The processes are restarted shifted, and restarted on the real clock afterwards, so the rest of the run is
    unaffected. Use it to act "next month" (submit last month's timesheets, pass a deadline) on a live stack.
    ``roles=("api",)`` shifts only the API (decisions taken through it), leaving the consumers' group in place.
    """

    def restart(offset: int) -> None:
        for service in services:
            for role in roles:
                kill(stack, f"{service}-{role}", signal.SIGTERM)
        previous = os.environ.get("QOSYM_CLOCK_OFFSET_S")
        os.environ["QOSYM_CLOCK_OFFSET_S"] = str(offset)
        try:
            restart_stopped_services(stack)
        finally:
            if previous is None:
                del os.environ["QOSYM_CLOCK_OFFSET_S"]
            else:
                os.environ["QOSYM_CLOCK_OFFSET_S"] = previous

    restart(offset_s)
    try:
        yield
    finally:
        restart(0)
