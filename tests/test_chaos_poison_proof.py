"""A poison record is proven only when every subscriber dead-lettered it; one not there yet at rest is waited for."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from qosym_cli.chaos import faults
from qosym_cli.chaos.faults import Injected, Injector
from qosym_cli.chaos.plan import Fault

pytestmark = pytest.mark.unit


def injector_with_poison(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, letters: dict[str, list[int]]) -> Injector:
    """One poison fault on a topic two services consume; ``letters`` gives each service's successive counts."""

    async def dead_letters(_stack: Any, service: str, key: str) -> int:
        assert key == "chaos-poison-key"
        counts = letters[service]
        return counts.pop(0) if len(counts) > 1 else counts[0]

    monkeypatch.setattr(faults, "_dead_letters", dead_letters)
    monkeypatch.setattr(faults.time, "sleep", lambda _s: None)  # the wait's pause between readings, not a clock
    injector = Injector(stack=SimpleNamespace(home=tmp_path), seed=2, subscribers={})  # type: ignore[arg-type]
    done = Injected(Fault("poison", "enrolments", 0.0, target="allocation.application.v1"))
    done.facts = {"key": "chaos-poison-key", "subscribers": ["notifications", "insights"]}
    injector.injected.append(done)
    return injector


def test_a_subscriber_that_reaches_the_record_after_rest_proves_it(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    injector = injector_with_poison(monkeypatch, tmp_path, {"notifications": [0, 0, 1], "insights": [1]})
    injector.verify_poison(timeout_s=60)
    [done] = injector.injected
    assert done.ok and done.facts["dead_lettered_by"] == ["notifications", "insights"], done.note


def test_a_subscriber_that_never_dead_letters_it_fails_the_fault(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    injector = injector_with_poison(monkeypatch, tmp_path, {"notifications": [0], "insights": [1]})
    clock = iter(range(0, 10_000, 30))  # each reading of the clock 30 s later: the wait ends at its deadline
    monkeypatch.setattr(faults.time, "monotonic", lambda: float(next(clock)))
    injector.verify_poison(timeout_s=60)
    [done] = injector.injected
    assert not done.ok and done.facts["dead_lettered_by"] == ["insights"]
    assert "no dead letter in notifications within 60 s" in done.note
