"""`qosym trace`: a trace's span tree read from the stack's OTLP JSON lines files, as the chassis writes them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.json.file import FileSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Link
from typer.testing import CliRunner

from qosym_cli.main import app

pytestmark = pytest.mark.unit


def provider(folder: Path, service: str, process: str) -> TracerProvider:
    made = TracerProvider(resource=Resource.create({"service.name": service, "qosym.process": process}))
    made.add_span_processor(SimpleSpanProcessor(FileSpanExporter(folder / f"{service}-{process}.jsonl")))
    return made


def write_a_request_its_relay_batch_and_a_consumer(folder: Path) -> str:
    """registry/api: POST → INSERT; registry/relay: a batch span linking to it; allocation/consumers: a child of the
    request's context (as the message's traceparent makes it)."""
    api = provider(folder, "registry", "api").get_tracer("t")
    relay = provider(folder, "registry", "relay").get_tracer("t")
    consumers = provider(folder, "allocation", "consumers").get_tracer("t")
    with api.start_as_current_span("POST /v1/children") as request:
        with api.start_as_current_span("INSERT qosym_registry"):
            pass
        context = trace.set_span_in_context(request)
    with relay.start_as_current_span("outbox relay", links=[Link(request.get_span_context())]):
        pass
    with (
        consumers.start_as_current_span("registry.child.v1 process", context=context),
        consumers.start_as_current_span("INSERT qosym_allocation"),
    ):
        pass
    return format(request.get_span_context().trace_id, "032x")


def test_the_tree_runs_from_the_request_to_the_consumer_with_the_relay_batch_linked(tmp_path):
    folder = tmp_path / "traces"
    folder.mkdir()
    trace_id = write_a_request_its_relay_batch_and_a_consumer(folder)
    (folder / "catalog-api.jsonl").write_text('{"resourceSpans": [{"cut short')  # a process killed mid-line

    result = CliRunner().invoke(app, ["trace", trace_id, "--home", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"trace {trace_id}"
    named = [line.split("  ")[-1] for line in lines[2:]]
    assert [n.strip() for n in named] == [
        "POST /v1/children",
        "INSERT qosym_registry",
        "registry.child.v1 process",
        "INSERT qosym_allocation",
        "(linked) outbox relay",
    ]
    assert "registry/api" in lines[2] and "allocation/consumers" in lines[4] and "registry/relay" in lines[6]

    tree = json.loads(CliRunner().invoke(app, ["trace", trace_id, "--json", "--home", str(tmp_path)]).output)
    (root,) = tree["spans"]
    assert root["name"] == "POST /v1/children"
    assert [c["name"] for c in root["children"]] == ["INSERT qosym_registry", "registry.child.v1 process"]
    assert root["children"][1]["children"][0]["service"] == "allocation"
    assert tree["linked"][0]["name"] == "outbox relay"


def test_an_unknown_trace_is_a_clear_error(tmp_path):
    (tmp_path / "traces").mkdir()
    result = CliRunner().invoke(app, ["trace", "0" * 32, "--home", str(tmp_path)])
    assert result.exit_code == 1
    assert "no span of trace" in result.output
