from uuid import uuid4

import pytest

from notifications.domain.messages import CHILD_REGISTERED, child_registered, title_for

pytestmark = pytest.mark.unit


def test_a_registered_child_is_news_for_its_guardian() -> None:
    guardian, child = uuid4(), uuid4()

    message = child_registered(guardian, child, "astana", "yesil")

    assert message.person_id == guardian
    assert message.kind == CHILD_REGISTERED
    assert message.subject_id == child
    assert message.payload == {"child_id": str(child), "region_code": "astana", "district_code": "yesil"}


def test_the_payload_holds_opaque_ids_and_codes_only() -> None:
    message = child_registered(uuid4(), uuid4(), "astana", "yesil")

    assert set(message.payload) == {"child_id", "region_code", "district_code"}


def test_titles_are_english_for_now() -> None:
    assert title_for(CHILD_REGISTERED) == "Child registered"
