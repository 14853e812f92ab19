"""docs/partners.md names every topic with its producer, key and partitions, and every event type of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from qosym_contracts.event_index import ALL_EVENTS
from qosym_contracts.topics import ALL_TOPICS

pytestmark = pytest.mark.unit

DOC = Path(__file__).resolve().parents[1] / "docs" / "partners.md"


def test_every_topic_is_documented_for_partners_as_the_contracts_define_it() -> None:
    rows = {
        line.split("|")[1].strip().strip("`"): [cell.strip() for cell in line.split("|")[1:-1]]
        for line in DOC.read_text().splitlines()
        if line.startswith("| `") and line.count("|") == 8
    }
    assert set(rows) == {topic.name for topic in ALL_TOPICS}
    for topic in ALL_TOPICS:
        _, producer, key, partitions, _, event_types, asyncapi = rows[topic.name]
        assert (producer, key, partitions) == (topic.producer, f"`{topic.key}`", str(topic.partitions))
        documented = {cell.strip().strip("`") for cell in event_types.split(",")}
        assert documented == {m.model_fields["event_type"].default for m in ALL_EVENTS if m.topic == topic.name}
        assert f"asyncapi/{topic.producer}.json" in asyncapi
        assert (DOC.parent / "asyncapi" / f"{topic.producer}.json").exists()
