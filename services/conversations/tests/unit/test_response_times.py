"""A provider's response time runs from a guardian's first unanswered message to the provider's first reply."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from conversations.domain.response_times import Posted, percentile, waits

pytestmark = pytest.mark.unit
T0 = datetime(2026, 10, 1, 9, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_a_guardian_turn_waits_from_its_first_message_to_the_first_reply() -> None:
    w = waits(
        [
            Posted("a", "guardian", at(0)),
            Posted("a", "guardian", at(5)),
            Posted("a", "provider_staff", at(30)),
            Posted("a", "provider_staff", at(31)),
            Posted("a", "guardian", at(60)),
            Posted("a", "provider_staff", at(70)),
        ]
    )
    assert w.answered_s == [30 * 60, 10 * 60]
    assert w.unanswered == 0


def test_threads_are_timed_apart_and_unanswered_turns_are_counted() -> None:
    w = waits(
        [
            Posted("a", "provider_staff", at(0)),
            Posted("a", "guardian", at(1)),
            Posted("b", "guardian", at(2)),
            Posted("b", "provider_staff", at(4)),
        ]
    )
    assert w.answered_s == [120]
    assert w.unanswered == 1


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([], 0.5) is None
    assert percentile([10], 0.9) == 10
    assert percentile([40, 10, 30, 20], 0.5) == 25
    assert percentile([float(v) for v in range(1, 11)], 0.9) == pytest.approx(9.1)
