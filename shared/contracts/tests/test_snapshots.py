"""Event contracts only change on purpose: the committed JSON Schemas must match the models."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from qosym_contracts.event_index import ALL_EVENTS
from qosym_contracts.snapshots import SCHEMAS_DIR, rendered
from qosym_contracts.topics import ALL_TOPICS

pytestmark = pytest.mark.unit
PERSONAL = {"iin", "first_name", "last_name", "patronymic", "full_name", "phone", "email", "home_address"}


def test_every_event_matches_its_committed_schema() -> None:
    committed = {path.name: path.read_text() for path in SCHEMAS_DIR.glob("*.json")}
    assert committed == rendered(), "run `uv run python -m qosym_contracts.snapshots` and review the diff"


@pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda e: e.__name__)
def test_every_event_names_a_known_topic_and_key(event) -> None:
    topic = next(t for t in ALL_TOPICS if t.name == event.topic)
    assert event.key_field == topic.key
    assert event.key_field in event.model_fields


@pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda e: e.__name__)
def test_no_event_carries_personal_data_fields(event) -> None:
    assert not PERSONAL & set(event.model_fields)


@pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda e: e.__name__)
def test_events_keep_utc_and_tolerate_new_fields(event) -> None:
    schema = json.loads(rendered()[f"{event.topic}.{event.__name__}.json"])
    assert {"event_id", "event_type", "event_version", "occurred_at"} <= set(schema["properties"])
    assert event.model_config.get("extra") == "ignore"


def test_occurred_at_is_stored_in_utc_and_naive_times_are_refused() -> None:
    from datetime import timedelta, timezone
    from uuid import uuid4

    from pydantic import ValidationError

    from qosym_contracts.registry import ChildRegisteredV1

    fields = {
        "child_id": uuid4(),
        "guardian_id": uuid4(),
        "birth_date": "2016-01-01",
        "sex": "F",
        "region_code": "astana",
        "district_code": "yesil",
    }
    local = datetime(2026, 4, 1, 0, 0, tzinfo=timezone(timedelta(hours=5)))
    assert ChildRegisteredV1(occurred_at=local, **fields).occurred_at == datetime(2026, 3, 31, 19, 0, tzinfo=UTC)
    with pytest.raises(ValidationError):
        ChildRegisteredV1(occurred_at=datetime(2026, 4, 1), **fields)
