"""``qosym chaos``: the plans are the seeds' alone. (A seeded run over the whole lifecycle is not in the suite yet:
its faults, PostgreSQL and Redis restarts among them, must not disturb the suite's shared stack, so it needs a stack
of its own, a few minutes a seed; seeds 1 and 2 pass by hand, docs/reliability.md.) What a run proves: the lifecycle completes through every fault the plan
chose, ``qosym check`` finds nothing, and each fault really happened (a killed pid gone and a new process ready,
the servers restarted, the poison record a dead letter in every consumer of its topic). Never a time assertion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from qosym_cli.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(2400)]
SEEDS = ("--start", "1", "--seeds", "2")


def chaos(stack: LocalStack, *args: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "qosym_cli.main", "chaos", *args, "--json", "--home", str(stack.home)],
        capture_output=True,
        text=True,
        timeout=2300,
        env={**os.environ, "COLUMNS": "300"},
    )
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip().startswith("{")]
    assert done.returncode == 0, json.dumps(lines, indent=1)[-6000:] + done.stderr[-3000:]
    return lines


def test_the_same_seed_always_gives_the_same_plan(running_stack: LocalStack) -> None:
    first = chaos(running_stack, "--plan", *SEEDS)
    again = chaos(running_stack, "--plan", "--seed", "2")
    assert [line["seed"] for line in first] == [1, 2]
    assert again[0]["plan"] == first[1]["plan"]
    assert first[0]["plan"] != first[1]["plan"]
