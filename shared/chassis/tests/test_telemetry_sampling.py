"""Traces are sampled by the standard OTEL variables: a ratio of roots chosen, a child following its parent's
decision (a consumer follows the request whose event it handles), and a misspelt setting refused at start."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased

from qosym_chassis.telemetry import sampler_from_env

pytestmark = pytest.mark.unit


def tracer(env: dict[str, str]) -> trace.Tracer:
    return TracerProvider(sampler=sampler_from_env(env)).get_tracer("test")


def recorded_roots(env: dict[str, str], n: int = 2000) -> int:
    chosen = tracer(env)
    count = 0
    for _ in range(n):
        with chosen.start_as_current_span("request") as span:
            count += span.is_recording()
    return count


def test_unset_keeps_every_trace():
    sampler = sampler_from_env({})
    assert isinstance(sampler, ParentBased)
    assert recorded_roots({}, 50) == 50


def test_a_ratio_keeps_about_that_share_of_roots_and_none_at_zero():
    env = {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.1"}
    kept = recorded_roots(env)
    assert 100 <= kept <= 300  # 10 % of 2,000 roots, binomial spread far inside these bounds
    assert recorded_roots({**env, "OTEL_TRACES_SAMPLER_ARG": "0"}) == 0
    assert recorded_roots({"OTEL_TRACES_SAMPLER": "always_off"}) == 0


def test_a_child_follows_its_parents_decision_under_a_ratio_of_zero():
    env = {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0"}
    parent_tracer = TracerProvider(sampler=ParentBased(ALWAYS_ON)).get_tracer("producer")
    with parent_tracer.start_as_current_span("request") as parent:
        assert parent.is_recording()
        with tracer(env).start_as_current_span("consume") as child:
            assert child.is_recording()
    with tracer(env).start_as_current_span("unsampled request") as root:
        assert not root.is_recording()
        with tracer({}).start_as_current_span("consume") as child:
            assert not child.is_recording()  # parent-based: a trace not chosen stays unchosen downstream


@pytest.mark.parametrize(
    "env",
    [
        {"OTEL_TRACES_SAMPLER": "sometimes"},
        {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "ten percent"},
        {"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1.5"},
    ],
)
def test_a_setting_that_is_not_a_sampler_is_refused(env):
    with pytest.raises(ValueError, match="OTEL_TRACES_SAMPLER"):
        sampler_from_env(env)
