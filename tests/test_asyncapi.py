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
