"""``qosym up --replicas SERVICE=N``: N consumers processes of a service in its one consumer group, each with its own
health port, shown by ``qosym status``, started again when it stopped and stopped by ``qosym down``.

A stack of its own (its own data folder and embedded servers, registry, notifications and catalog only, no demo data), driven
through the command line as a user would."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from qosym_cli.processes import is_alive
from qosym_cli.stack import LocalStack
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

SERVICES = "registry,notifications,catalog"  # registry sends its codes through notifications


def qosym(home: Path, *args: str, timeout_s: float = 600) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "qosym_cli.main", *args, "--home", str(home)]
    env = {**os.environ, "COLUMNS": "200"}
    for name in ("QOSYM_POSTGRES_URL", "QOSYM_REDIS_URL", "QOSYM_KAFKA_BOOTSTRAP_SERVERS"):
        env.pop(name, None)  # its own embedded servers, whatever the test run uses
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, env=env, check=False)


def group_members(bootstrap: str, group: str) -> int:
    async def describe() -> int:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            [described] = await admin.describe_consumer_groups([group])
            return len(described.groups[0][5])  # (error, group, state, protocol type, protocol, members, ...)
        finally:
            await admin.close()

    return asyncio.run(describe())


@pytest.fixture
def home() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="qosym-replicas-", dir="/tmp"))
    try:
        yield folder
    finally:
        qosym(folder, "down", timeout_s=120)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.timeout(1500)  # `qosym up` of a stack of its own: 150 s to over 300 s at a load average of 25 to 35
def test_up_with_replicas_runs_two_consumers_processes_in_one_group(home: Path) -> None:
    started = qosym(home, "up", "--services", SERVICES, "--no-seed", "--replicas", "catalog=2")
    assert started.returncode == 0, started.stdout + started.stderr

    stack = LocalStack(home)
    first, second = stack.state.process("catalog", "consumers"), stack.state.processes["catalog-consumers-2"]
    assert (first.service, first.role, second.service, second.role) == ("catalog", "consumers") * 2
    assert first.port != second.port and first.pid != second.pid
    assert stack.state.replicas == {"catalog": 2}
    assert "registry-consumers-2" not in stack.state.processes

    status = qosym(home, "status")
    assert status.returncode == 0, status.stdout + status.stderr
    rows = {line.split("│")[1].strip(): line for line in status.stdout.splitlines() if line.count("│") > 3}
    assert "ready" in rows["catalog-consumers"] and "ready" in rows["catalog-consumers-2"]
    assert stack.state.kafka_bootstrap_servers is not None
    eventually(lambda: group_members(str(stack.state.kafka_bootstrap_servers), "catalog") == 2, timeout_s=90)

    os.kill(int(second.pid or 0), signal.SIGKILL)  # a replica dies; the group goes on with one member
    eventually(lambda: not is_alive(second.pid), timeout_s=10)
    restarting = LocalStack(home)  # what restarts stopped processes (tests, `qosym bench`): every replica it records
    assert restarting.start_services() == ["catalog-consumers-2"]
    restarting.wait_until_ready(timeout_s=300)
    restarted = LocalStack(home).state.processes["catalog-consumers-2"]
    assert restarted.pid != second.pid and is_alive(restarted.pid)
    assert LocalStack(home).state.process("catalog", "consumers").pid == first.pid  # the other one kept running
    eventually(lambda: group_members(str(stack.state.kafka_bootstrap_servers), "catalog") == 2, timeout_s=90)

    down = qosym(home, "down")
    assert down.returncode == 0, down.stdout + down.stderr
    pids = [r["pid"] for r in json.loads((home / "stack.json").read_text())["processes"].values()]
    assert not any(pids)
    assert not is_alive(first.pid) and not is_alive(restarted.pid)

    one = LocalStack(home, replicas={"catalog": 1})  # back to one: the next `up` plans no second replica
    one.plan()
    assert "catalog-consumers-2" not in one.state.processes and one.state.replicas == {"catalog": 1}

    wrong = qosym(home, "up", "--services", SERVICES, "--replicas", "catalog=two")
    assert wrong.returncode == 1 and "SERVICE=N" in wrong.stdout + wrong.stderr
    unknown = qosym(home, "up", "--services", SERVICES, "--replicas", "portal=2")
    assert unknown.returncode == 1 and "not a service with consumers" in unknown.stdout + unknown.stderr
