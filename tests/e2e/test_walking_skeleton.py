"""The foundation's flow through real processes: registry -> outbox -> Kafka -> allocation and notifications."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qosym_cli.main import app as cli
from qosym_cli.traces import read_spans
from tests.support.people import synthetic_iin
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e


def register(api, parent, iin: str, district: str = "yesil") -> dict:
    response = api("registry").post(
        "/v1/children", json={"iin": iin, "region_code": "astana", "district_code": district}, headers=parent.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_demo_regions_reached_every_service(api, staff_headers):
    regions = api("allocation").get("/v1/regions").json()["items"]
    assert {r["config"]["code"] for r in regions} >= {"astana", "almaty"}
    astana = next(r for r in regions if r["config"]["code"] == "astana")
    assert len(astana["config"]["districts"]) == 6
    points = eventually(
        lambda: api("catalog").get("/v1/consultation-points", params={"region_code": "astana"}).json()["items"]
    )
    assert len(points) == 7
    budget = eventually(
        lambda: (
            api("payments").get("/v1/regions/astana/budget", headers=staff_headers).json().get("budget_tiyn")
            and api("payments").get("/v1/regions/astana/budget", headers=staff_headers).json()
        )
    )
    assert budget["budget_tiyn"] == 250_000_000_000


def test_a_registered_child_reaches_allocation_and_the_parent_inbox(api, new_parent):
    parent = new_parent()
    child = register(api, parent, synthetic_iin(date(2016, 5, 14)))

    def allocation_view() -> dict | None:
        response = api("allocation").get(f"/v1/children/{child['id']}", headers=parent.headers)
        return response.json() if response.status_code == 200 else None

    seen = eventually(allocation_view)
    assert seen["district_code"] == "yesil"
    assert seen["birth_date"] == "2016-05-14"
    inbox = eventually(lambda: api("notifications").get("/v1/inbox", headers=parent.headers).json()["items"])
    assert [m["kind"] for m in inbox] == ["child_registered"]


def _spans(traces_dir: Path) -> list[tuple[str, str, str, str]]:
    found = []
    for path in traces_dir.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            for resource in json.loads(line).get("resourceSpans", []):
                attributes = {a["key"]: next(iter(a["value"].values())) for a in resource["resource"]["attributes"]}
                for scope in resource["scopeSpans"]:
                    for span in scope["spans"]:
                        found.append(
                            (span["traceId"], attributes["service.name"], attributes["qosym.process"], span["name"])
                        )
    return found


def _linked_traces(traces_dir: Path, service: str, process: str, name: str) -> set[str]:
    """The traces the named spans link to (the relay's batch span links to each request whose events it sent)."""
    linked: set[str] = set()
    for path in traces_dir.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            for resource in json.loads(line).get("resourceSpans", []):
                attributes = {a["key"]: next(iter(a["value"].values())) for a in resource["resource"]["attributes"]}
                if (attributes["service.name"], attributes["qosym.process"]) != (service, process):
                    continue
                for scope in resource["scopeSpans"]:
                    linked |= {
                        link["traceId"]
                        for span in scope["spans"]
                        if span["name"] == name
                        for link in span.get("links", [])
                    }
    return linked


def test_one_trace_spans_request_database_outbox_kafka_and_consumer(api, new_parent, running_stack):
    parent = new_parent()
    child = register(api, parent, synthetic_iin(date(2015, 1, 20)))
    eventually(lambda: api("allocation").get(f"/v1/children/{child['id']}", headers=parent.headers).status_code == 200)

    def trace_of_registration() -> tuple[str, set[tuple[str, str, str]]] | None:
        spans = _spans(running_stack.home / "traces")
        consumer_traces = {t for t, s, p, name in spans if s == "allocation" and name == "registry.child.v1 process"}
        for trace_id in consumer_traces:
            members = {(s, p, name) for t, s, p, name in spans if t == trace_id}
            if ("registry", "api", "POST /v1/children") in members and any(
                s == "allocation" and n.startswith("INSERT") for s, _, n in members
            ):
                return trace_id, members
        return None

    trace_id, members = eventually(trace_of_registration, timeout_s=20)
    names = {(service, process) for service, process, _ in members}
    assert {("registry", "api"), ("allocation", "consumers")} <= names
    assert any(n.startswith("INSERT") and s == "registry" for s, _, n in members)  # the database write
    # the relay's one span per batch links to the request's trace; the message carried the request's traceparent
    assert eventually(
        lambda: trace_id in _linked_traces(running_stack.home / "traces", "registry", "relay", "outbox relay")
    )
    # `qosym trace` shows it as one tree: the request at the root, the consumer's span inside it, the relay linked
    shown = CliRunner().invoke(cli, ["trace", trace_id, "--home", str(running_stack.home)])
    assert shown.exit_code == 0, shown.output
    rows = shown.output.splitlines()[2:]
    assert "registry/api" in rows[0] and rows[0].rstrip().endswith("POST /v1/children")
    assert any("allocation/consumers" in row and "registry.child.v1 process" in row for row in rows)
    assert any("registry/relay" in row and "(linked) outbox relay" in row for row in rows)
    # and no orphan polling: every span a relay starts on its own is a batch it sent, none is an idle poll's SQL
    relay_roots = {
        s.name for s in read_spans(running_stack.home / "traces") if s.process == "relay" and not s.parent_id
    }
    assert relay_roots == {"outbox relay"}


def test_no_iin_reaches_logs_traces_or_the_bus(api, new_parent, running_stack):
    """The PII canary: a registered IIN appears nowhere but in the registry's encrypted column."""
    import asyncio

    from aiokafka import AIOKafkaConsumer

    parent = new_parent()
    iin = synthetic_iin(date(2014, 7, 7))
    child = register(api, parent, iin)
    eventually(lambda: api("allocation").get(f"/v1/children/{child['id']}", headers=parent.headers).status_code == 200)
    bad = api("registry").post(
        "/v1/children",
        json={"iin": iin[:-1] + "x", "region_code": "astana", "district_code": "yesil"},
        headers=parent.headers,
    )
    assert bad.status_code == 422
    assert iin[:-1] not in bad.text

    async def topic_values() -> bytes:
        consumer = AIOKafkaConsumer(
            "registry.child.v1",
            bootstrap_servers=running_stack.state.kafka_bootstrap_servers,
            auto_offset_reset="earliest",
            group_id=None,
        )
        await consumer.start()
        seen = b""
        try:
            for _ in range(6):
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    seen += b"".join((r.value or b"") + b"".join(v for _, v in r.headers) for r in records)
        finally:
            await consumer.stop()
        return seen

    assert child["id"].encode() in asyncio.run(topic_values())
    assert iin.encode() not in asyncio.run(topic_values())
    for folder in ("logs", "traces"):
        for path in (running_stack.home / folder).glob("*"):
            assert iin[:11] not in path.read_text(errors="replace"), f"{iin[:4]}… leaked into {path.name}"
