"""``QOSYM_API_WORKERS``: a service's API runs as several worker processes sharing its port, under one supervisor
that replaces a worker that dies; the local stack passes the setting (per service, or for every API) to the API
processes only."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from qosym_cli.ports import HOST, free_port
from qosym_cli.processes import stop_all
from qosym_cli.services import api_workers, service_env
from qosym_cli.state import ProcessRecord, StackState


def workers_of(supervisor: psutil.Process) -> set[int]:
    """The supervisor's live worker processes (multiprocessing's spawned children)."""
    workers = set()
    for child in supervisor.children():
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "spawn_main" in " ".join(child.cmdline()):
                workers.add(child.pid)
        except psutil.Error:
            continue  # exited between the listing and the look
    return workers


def wait_for(condition, what: str, timeout_s: float = 90.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting until {what}")


def two_workers(supervisor: psutil.Process) -> set[int] | None:
    workers = workers_of(supervisor)
    return workers if len(workers) == 2 else None


def serves(port: int) -> bool:
    try:
        return httpx.get(f"http://{HOST}:{port}/health/live", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def run_and_kill_a_worker(env: dict[str, str], port: int, log_path: Path) -> None:
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "insights", "api"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            supervisor = psutil.Process(process.pid)
            first = wait_for(lambda: two_workers(supervisor), "two workers run")
            wait_for(lambda: serves(port), "the API answers")
            victim = min(first)
            os.kill(victim, signal.SIGKILL)
            replaced = wait_for(
                lambda: w if (w := two_workers(supervisor)) and victim not in w else None,
                "the supervisor replaces the dead worker",
            )
            assert replaced - first, "a new worker process took the dead one's place"
            wait_for(lambda: serves(port), "the API answers after the replacement")
        except AssertionError:
            print(log_path.read_text()[-3000:])  # the API's own log, shown with the failure
            raise
        finally:
            stop_all([process.pid])
            process.wait(timeout=10)


@pytest.mark.component
async def test_an_api_with_two_workers_serves_and_a_dead_worker_is_replaced(
    stack_servers, service_db, jwks_url, tmp_path: Path
):
    port = free_port(set())
    env = {
        **os.environ,
        "QOSYM_SERVICE_NAME": "insights",
        "QOSYM_DATABASE_URL": await service_db("insights"),
        "QOSYM_KAFKA_BOOTSTRAP_SERVERS": stack_servers.state.kafka_bootstrap_servers or "",
        "QOSYM_REDIS_URL": stack_servers.state.redis_url or "",
        "QOSYM_PORT": str(port),
        "QOSYM_JWKS_URL": jwks_url,
        "QOSYM_KEYS_DIR": str(tmp_path / "keys"),
        "QOSYM_API_WORKERS": "2",
    }
    await asyncio.to_thread(run_and_kill_a_worker, env, port, tmp_path / "api.log")


@pytest.mark.unit
def test_the_local_stack_gives_the_worker_count_to_api_processes_only(tmp_path: Path, monkeypatch):
    assert api_workers("registry", {}) == "1"
    assert api_workers("registry", {"QOSYM_API_WORKERS": "3"}) == "3"
    assert api_workers("registry", {"QOSYM_API_WORKERS": "3", "QOSYM_REGISTRY_API_WORKERS": "4"}) == "4"
    assert api_workers("catalog", {"QOSYM_REGISTRY_API_WORKERS": "4"}) == "1"
    state = StackState(
        processes={
            "registry-api": ProcessRecord("registry-api", 9001, service="registry", role="api"),
            "notifications-api": ProcessRecord("notifications-api", 9002, service="notifications", role="api"),
        },
        database_urls={"registry": "postgresql://registry", "catalog": "postgresql://catalog"},
    )
    api = ProcessRecord("catalog-api", 9003, service="catalog", role="api")
    consumers = ProcessRecord("catalog-consumers", 9004, service="catalog", role="consumers")
    monkeypatch.delenv("QOSYM_API_WORKERS", raising=False)
    monkeypatch.setenv("QOSYM_CATALOG_API_WORKERS", "2")
    assert service_env(tmp_path, state, api)["QOSYM_API_WORKERS"] == "2"
    assert service_env(tmp_path, state, consumers).get("QOSYM_API_WORKERS") is None
