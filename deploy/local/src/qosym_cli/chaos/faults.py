"""Injecting a plan's faults into the running stack, and healing it after each the way ``qosym up`` does (every
stopped service process started again by ``start_service_process``, then waited for until ready).

Each injected fault is recorded with what proves it happened: the killed pid gone and the new one ready, the
PostgreSQL or Redis server's new pid, the rows a replay marked, the poison record's key (its dead letters are
looked for once the pipeline is at rest)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from aiokafka import AIOKafkaProducer

from qosym_cli import servers
from qosym_cli.chaos.plan import Fault
from qosym_cli.health import is_ready
from qosym_cli.ports import HOST, accepts_connections
from qosym_cli.processes import is_alive
from qosym_cli.services import start_service_process
from qosym_cli.stack import LocalStack
from qosym_cli.state import ProcessRecord

POISON = b"{chaos poison: this is not json"
HEAL_TIMEOUT_S = 300.0
POISON_WAIT_S = 120.0  # after rest, for a subscriber to dead-letter a poison record it had not reached yet
REDIS_DOWN_S = 2.0


@dataclass
class Injected:
    fault: Fault
    ok: bool = True  # the fault really happened (a failed injection fails the seed)
    note: str = ""
    at: str = ""
    facts: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {**self.fault.as_dict(), "ok": self.ok, "note": self.note, "at": self.at, **self.facts}


@dataclass
class Armed:
    """A consumers process armed with the chassis' kill point (``QOSYM_FAULT_KILL_AT``)."""

    injected: Injected
    pid: int
    marker: Path


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _wait_gone(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while is_alive(pid):
        if time.monotonic() > deadline:
            return False
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # our own child (started by an earlier heal) must not linger as a zombie
        time.sleep(0.05)
    return True


class Injector:
    def __init__(self, stack: LocalStack, seed: int, subscribers: Mapping[str, list[str]]) -> None:
        self.stack = stack
        self.seed = seed
        self.subscribers = subscribers  # topic -> the services consuming it
        self.lock = threading.RLock()
        self.injected: list[Injected] = []
        self.armed: list[Armed] = []
        self.overrides: dict[str, dict[str, str]] = {}  # process -> environment it must (re)start with
        self.restarts: dict[str, int] = {}  # process -> times started again by a heal
        self.folder = stack.home / "chaos"
        self.folder.mkdir(parents=True, exist_ok=True)

    # --- healing ----------------------------------------------------------------------------------------------

    def _start(self, record: ProcessRecord, extra: Mapping[str, str] | None = None) -> int:
        with _environment({**self.overrides.get(record.name, {}), **(extra or {})}):
            record.pid = start_service_process(self.stack.home, self.stack.state, record)
        self.stack.save()
        return record.pid

    def heal(self, timeout_s: float = HEAL_TIMEOUT_S) -> list[str]:
        """Start every stopped service process (a fired kill point's too), wait until all are ready; the names
        started. A process that dies while waiting is started again."""
        with self.lock:
            started: list[str] = []
            deadline = time.monotonic() + timeout_s
            while True:
                waiting = []
                for record in self.stack.state.service_processes():
                    if not self.stack.is_running(record):
                        self._start(record)
                        started.append(record.name)
                        self.restarts[record.name] = self.restarts.get(record.name, 0) + 1
                        waiting.append(record.name)
                    elif not is_ready(int(record.port or 0), timeout_s=1.0):
                        waiting.append(record.name)
                if not waiting:
                    return started
                if time.monotonic() > deadline:
                    raise TimeoutError(f"not ready after {timeout_s:.0f} s: {', '.join(sorted(waiting))}")
                time.sleep(0.5)

    def restart(self, name: str) -> None:
        """Stop a process gracefully and start it again (with its current override)."""
        with self.lock:
            record = self.stack.state.processes[name]
            if record.pid and self.stack.is_running(record):
                os.kill(int(record.pid), signal.SIGTERM)
                if not _wait_gone(int(record.pid), 30.0):
                    os.kill(int(record.pid), signal.SIGKILL)
                    _wait_gone(int(record.pid), 10.0)
            self.heal()

    # --- injecting --------------------------------------------------------------------------------------------

    def inject(self, fault: Fault) -> Injected:
        done = Injected(fault, at=datetime.now(UTC).isoformat(timespec="seconds"))
        with self.lock:
            try:
                getattr(self, "_" + fault.kind.replace("-", "_"))(fault, done)
            except Exception as error:  # an injection that could not be done fails the seed, with why
                done.ok = False
                done.note = f"{type(error).__name__}: {str(error)[:300]}"
        self.injected.append(done)
        return done

    def _kill(self, fault: Fault, done: Injected) -> None:
        record = self.stack.state.processes[fault.target]
        old = int(record.pid or 0)
        if not self.stack.is_running(record):
            self.heal()
            old = int(record.pid or 0)
        os.kill(old, signal.SIGKILL)
        gone = _wait_gone(old, 10.0)
        self.heal()
        new = int(record.pid or 0)
        ready = self.stack.is_running(record) and is_ready(int(record.port or 0))
        done.facts = {"old_pid": old, "new_pid": new, "old_gone": gone and not is_alive(old), "new_ready": ready}
        done.ok = gone and new != old and ready
        done.note = f"pid {old} killed, {new} ready" if done.ok else f"pid {old} gone {gone}, {new} ready {ready}"

    def _kill_point(self, fault: Fault, done: Injected) -> None:
        record = self.stack.state.processes[fault.target]
        marker = self.folder / f"kill-point-{self.seed}-{len(self.injected)}"
        marker.unlink(missing_ok=True)
        if record.pid and self.stack.is_running(record):
            os.kill(int(record.pid), signal.SIGTERM)
            if not _wait_gone(int(record.pid), 30.0):
                os.kill(int(record.pid), signal.SIGKILL)
                _wait_gone(int(record.pid), 10.0)
        pid = self._start(record, {"QOSYM_FAULT_KILL_AT": fault.detail, "QOSYM_FAULT_MARKER": str(marker)})
        deadline = time.monotonic() + 120
        while is_alive(pid) and not is_ready(int(record.port or 0), timeout_s=1.0):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{fault.target} armed at {fault.detail} not ready in 120 s")
            time.sleep(0.3)
        done.facts = {"armed_pid": pid, "fired": False}
        done.note = f"pid {pid} armed at {fault.detail}"
        self.armed.append(Armed(done, pid, marker))

    def settle_kill_points(self) -> None:
        """Every armed process that fired: recorded (its pid gone, the marker naming the event) and started again
        unarmed; one still armed (no event reached it) is started again unarmed and recorded as not fired."""
        with self.lock:
            for armed in self.armed:
                name = armed.injected.fault.target
                if armed.marker.exists() and _wait_gone(armed.pid, 10.0):
                    point, event_type, event_id = [*armed.marker.read_text().split(), "", "", ""][:3]
                    armed.injected.facts.update(fired=True, event_type=event_type, event_id=event_id)
                    armed.injected.note = f"pid {armed.pid} died at {point} on {event_type}"
                elif self.stack.state.processes[name].pid == armed.pid:
                    self.restart(name)
                    armed.injected.note += ", no event reached it (disarmed)"
                else:
                    armed.injected.note += ", killed by another fault first (disarmed)"
            self.armed = []
            self.heal()

    def _postgres_restart(self, fault: Fault, done: Injected) -> None:
        port = int(self.stack.state.processes["postgres"].port or 0)
        old = servers.postgres_pid(self.stack.home)
        servers.stop_postgres(self.stack.home)
        stopped = servers.postgres_pid(self.stack.home) is None
        new = servers.start_postgres(self.stack.home, port)
        died = [r.name for r in self.stack.state.service_processes() if not self.stack.is_running(r)]
        self.heal()
        done.facts = {"old_pid": old, "new_pid": new, "processes_died": died}
        done.ok = stopped and new != old and accepts_connections(HOST, port)
        done.note = f"postgres {old} -> {new}" + (f"; died and restarted: {', '.join(died)}" if died else "")

    def _redis_restart(self, fault: Fault, done: Injected) -> None:
        record = self.stack.state.processes["redis"]
        old = int(record.pid or 0)
        servers.stop_process(old)
        gone = not is_alive(old)
        time.sleep(REDIS_DOWN_S)  # down for a moment while the lifecycle goes on
        record.pid = servers.start_redis(self.stack.home, int(record.port or 0))
        self.stack.save()
        died = [r.name for r in self.stack.state.service_processes() if not self.stack.is_running(r)]
        self.heal()
        done.facts = {"old_pid": old, "new_pid": record.pid, "processes_died": died}
        done.ok = gone and self.stack.is_running(record)
        done.note = f"redis {old} -> {record.pid}" + (f"; died and restarted: {', '.join(died)}" if died else "")

    def _drop_connections(self, fault: Fault, done: Injected) -> None:
        url = self.stack.state.database_urls[fault.target]
        database = urlsplit(url).path.lstrip("/")
        server = (self.stack.state.postgres_server_url or url).replace("+asyncpg", "")

        async def terminate() -> int:
            conn = await asyncpg.connect(server, database="postgres" if self.stack.state.postgres_server_url else None)
            try:
                return int(
                    await conn.fetchval(
                        "select count(*) from (select pg_terminate_backend(pid) from pg_stat_activity "
                        "where datname = $1 and pid <> pg_backend_pid() and backend_type = 'client backend') t",
                        database,
                    )
                )
            finally:
                await conn.close()

        dropped = asyncio.run(terminate())
        died = [r.name for r in self.stack.state.service_processes() if not self.stack.is_running(r)]
        self.heal()
        done.facts = {"terminated": dropped, "processes_died": died}
        done.note = f"{dropped} connections to {database} terminated"

    def _replay(self, fault: Fault, done: Injected) -> None:
        from qosym_cli import ops

        since = datetime.now(UTC) - timedelta(seconds=int(fault.detail))
        results = asyncio.run(ops.replay(ops.database_urls(self.stack.home), since))
        failed = {s: str(r) for s, r in results.items() if isinstance(r, Exception)}
        marked = sum(r for r in results.values() if not isinstance(r, Exception))
        done.facts = {"rows_marked": marked}
        done.ok = not failed
        done.note = f"{marked} outbox rows marked for replay" + (f"; failed: {failed}" if failed else "")

    def _poison(self, fault: Fault, done: Injected) -> None:
        key = f"chaos-poison-{self.seed}-{len(self.injected)}-{int(time.time())}"

        async def produce() -> None:
            producer = AIOKafkaProducer(bootstrap_servers=self.stack.state.kafka_bootstrap_servers, acks="all")
            await producer.start()
            try:
                await producer.send_and_wait(fault.target, POISON, key=key.encode())
            finally:
                await producer.stop()

        asyncio.run(produce())
        done.facts = {"key": key, "subscribers": list(self.subscribers.get(fault.target, []))}
        done.note = f"malformed record {key} on {fault.target}"

    # --- after the pipeline is at rest ------------------------------------------------------------------------

    def verify_poison(self, timeout_s: float = POISON_WAIT_S) -> None:
        """Each poison record must be a dead letter in every service consuming its topic (not a stuck consumer).

        "At rest" is judged from the consumers' lag gauges, which can be a refresh behind (or, on tansu, short by
        the rest of a record batch): a subscriber without the dead letter yet is waited for, up to ``timeout_s``
        for all records together, before the fault counts as not proven."""
        deadline = time.monotonic() + timeout_s
        for done in self.injected:
            if done.fault.kind != "poison" or not done.ok:
                continue
            missing = list(done.facts["subscribers"])
            while True:
                missing = [s for s in missing if asyncio.run(_dead_letters(self.stack, s, done.facts["key"])) < 1]
                if not missing or time.monotonic() >= deadline:
                    break
                time.sleep(1.0)
            done.facts["dead_lettered_by"] = [s for s in done.facts["subscribers"] if s not in missing]
            if missing:
                done.ok = False
                done.note += f"; no dead letter in {', '.join(missing)} within {timeout_s:.0f} s of rest"
            else:
                done.note += f"; dead-lettered by {', '.join(done.facts['subscribers']) or 'nobody (unconsumed)'}"


async def _dead_letters(stack: LocalStack, service: str, key: str) -> int:
    conn = await asyncpg.connect(stack.state.database_urls[service].replace("+asyncpg", ""))
    try:
        return int(await conn.fetchval("select count(*) from dead_letter where msg_key = $1", key))
    finally:
        await conn.close()
