"""The AsyncAPI documents partners read are generated from the code and kept current."""

from __future__ import annotations

import json

import pytest

from scripts.asyncapi import OUTPUT, documents

pytestmark = pytest.mark.unit


def test_committed_asyncapi_documents_are_current() -> None:
    committed = {path.name: path.read_text() for path in OUTPUT.glob("*.json")}
    assert committed == documents(), "run `uv run python scripts/asyncapi.py` and review the diff"


def test_the_skeleton_flow_is_described() -> None:
    registry = json.loads(documents()["registry.json"])
    allocation = json.loads(documents()["allocation.json"])
    assert registry["asyncapi"] == "3.0.0"
    assert any(op["action"] == "send" and "ChildRegisteredV1" in name for name, op in registry["operations"].items())
    assert any(
        op["action"] == "receive" and "ChildRegisteredV1" in name for name, op in allocation["operations"].items()
    )


def test_every_message_documents_its_headers_and_kafka_key() -> None:
    from qosym_contracts.event_index import ALL_EVENTS

    key_fields = {f"{e.topic}:{e.__name__}": e.key_field for e in ALL_EVENTS}
    types = {f"{e.topic}:{e.__name__}": e.model_fields["event_type"].default for e in ALL_EVENTS}
    checked = 0
    for name, text in documents().items():
        document = json.loads(text)
        for title, message in document.get("components", {}).get("messages", {}).items():
            event = ":".join(title.removesuffix(":Message").removesuffix(":SubscribeMessage").split(":")[-2:])
            headers = message["headers"]
            assert headers["required"] == ["event_id", "event_type", "traceparent"], (name, title)
            assert headers["properties"]["event_id"]["format"] == "uuid"
            assert headers["properties"]["event_type"]["const"] == types[event]
            assert headers["properties"]["traceparent"]["pattern"].startswith("^[0-9a-f]{2}-[0-9a-f]{32}")
            key = message["bindings"]["kafka"]["key"]
            assert key["type"] == "string" and key_fields[event] in key["description"], (name, title)
            checked += 1
    assert checked >= len(ALL_EVENTS)


def test_every_document_with_channels_names_the_production_server_and_partitions() -> None:
    from qosym_contracts.topics import ALL_TOPICS

    partitions = {t.name: t.partitions for t in ALL_TOPICS}
    for name, text in documents().items():
        document = json.loads(text)
        if not document.get("channels"):
            continue
        production = document["servers"]["production"]
        assert production["protocol"] == "kafka-secure" and "bootstrap" in production["variables"], name
        assert production["security"] == [{"$ref": "#/components/securitySchemes/scram"}]
        assert document["components"]["securitySchemes"]["scram"]["type"] == "scramSha512"
        for channel in document["channels"].values():
            assert {"$ref": "#/servers/production"} in channel["servers"]
            kafka = channel["bindings"]["kafka"]
            assert kafka["partitions"] == partitions[kafka["topic"]], (name, kafka)
