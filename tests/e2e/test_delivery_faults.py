"""At-least-once delivery with exactly-once effects, through crashes, poison and a broker that forgot."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import date

import pytest

from tests.support.people import synthetic_iin
from tests.support.stack_ops import db_value, kill, produce, restart_stopped_services
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e
CHILD_TOPIC = "registry.child.v1"


def register(api, parent, born: date = date(2016, 2, 2)) -> str:
    response = api("registry").post(
        "/v1/children",
        json={"iin": synthetic_iin(born), "region_code": "astana", "district_code": "nura"},
        headers=parent.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def allocation_knows(stack, child_ids: list[str]) -> int:
    return db_value(stack, "allocation", "select count(*) from child where child_id = any($1::uuid[])", child_ids)


def test_a_consumer_killed_mid_flow_and_restarted_loses_nothing_and_repeats_nothing(api, new_parent, running_stack):
    parent = new_parent()
    children = [register(api, parent) for _ in range(5)]
    eventually(lambda: allocation_knows(running_stack, children) == 5)

    kill(running_stack, "allocation-consumers")
    more = [register(api, parent) for _ in range(20)]
    assert allocation_knows(running_stack, more) == 0
    restart_stopped_services(running_stack)
    eventually(lambda: allocation_knows(running_stack, more) == 20, timeout_s=60)
    kill(running_stack, "allocation-consumers")  # again, possibly mid-batch
    restart_stopped_services(running_stack)
    everyone = children + more
    assert allocation_knows(running_stack, everyone) == 25
    assert (
        db_value(
            running_stack,
            "allocation",
            "select count(*) from inbox where topic = $1 and event_id in "
            "(select event_id from inbox group by event_id having count(*) > 1)",
            CHILD_TOPIC,
        )
        == 0
    )
    inbox = eventually(lambda: len(api("notifications").get("/v1/inbox", headers=parent.headers).json()["items"]) == 25)
    assert inbox


def test_a_malformed_message_is_dead_lettered_and_the_next_one_still_flows(api, new_parent, running_stack):
    dead_before = db_value(running_stack, "allocation", "select count(*) from dead_letter")
    produce(running_stack, CHILD_TOPIC, b"{this is not json", key=b"poison")
    produce(running_stack, CHILD_TOPIC, json.dumps({"event_type": "registry.ChildRegistered"}).encode(), key=b"half")
    parent = new_parent()
    child = register(api, parent)

    eventually(lambda: allocation_knows(running_stack, [child]) == 1)
    eventually(lambda: db_value(running_stack, "allocation", "select count(*) from dead_letter") == dead_before + 2)
    errors = db_value(running_stack, "allocation", "select string_agg(error, ' | ') from dead_letter")
    assert "malformed message" in errors

    listed = subprocess.run(
        [
            sys.executable,
            "-m",
            "qosym_cli.main",
            "dlq",
            "list",
            "--service",
            "allocation",
            "--home",
            str(running_stack.home),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "300"},
    )
    assert listed.returncode == 0, listed.stderr
    assert CHILD_TOPIC in listed.stdout


def test_a_redelivered_event_is_applied_once(api, new_parent, running_stack):
    parent = new_parent()
    child = register(api, parent)
    eventually(lambda: allocation_knows(running_stack, [child]) == 1)
    payload = db_value(running_stack, "registry", "select payload::text from outbox where msg_key = $1", child)
    for _ in range(3):
        produce(running_stack, CHILD_TOPIC, payload.encode(), key=child.encode())
    eventually(
        lambda: (
            db_value(running_stack, "notifications", "select count(*) from inbox where topic = $1", CHILD_TOPIC) >= 1
        )
    )
    later = register(api, parent)  # a marker behind the duplicates on the same topic
    eventually(lambda: allocation_knows(running_stack, [later]) == 1)
    eventually(lambda: len(api("notifications").get("/v1/inbox", headers=parent.headers).json()["items"]) == 2)
    assert allocation_knows(running_stack, [child]) == 1
    assert len(api("notifications").get("/v1/inbox", headers=parent.headers).json()["items"]) == 2


def broker_clients(stack) -> list[str]:
    """The running processes that talk to the broker: every consumers and relay process."""
    processes = stack.reload().processes.values()
    return [r.name for r in processes if r.role in ("consumers", "relay") and r.pid and stack.is_running(r)]


def test_after_the_broker_restarts_empty_replay_restores_the_flow(api, new_parent, running_stack):
    parent = new_parent()
    kill(running_stack, "allocation-consumers")
    lost = register(api, parent)
    eventually(
        lambda: db_value(
            running_stack, "registry", "select published_at is not null from outbox where msg_key = $1", lost
        )
    )

    # The broker crashes and comes back with an empty log, as docs/operations.md ("Replay after a broker loss") has
    # it for tansu: its clients stopped first, the topics created with their declared partitions before they start
    # again (a running consumer would have tansu create them on its next request, with 4 partitions, not 12).
    kill(running_stack, "kafka")
    for name in broker_clients(running_stack):
        kill(running_stack, name, signal.SIGTERM)  # stopped as `qosym down` stops them (a relay hands its lease back)
    running_stack.start_servers()  # same port, empty log, no consumer offsets
    running_stack.create_topics()
    restart_stopped_services(running_stack)
    assert allocation_knows(running_stack, [lost]) == 0

    replayed = subprocess.run(
        [sys.executable, "-m", "qosym_cli.main", "replay", "--since", "15m", "--home", str(running_stack.home)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    eventually(lambda: allocation_knows(running_stack, [lost]) == 1, timeout_s=60)
    after = register(api, parent)
    eventually(lambda: allocation_knows(running_stack, [after]) == 1, timeout_s=60)

    def inbox() -> list[dict]:
        return api("notifications").get("/v1/inbox", headers=parent.headers).json()["items"]

    eventually(lambda: len(inbox()) == 2, timeout_s=60)
    assert sorted(m["subject_id"] for m in inbox()) == sorted([lost, after])
