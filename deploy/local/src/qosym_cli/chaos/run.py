"""One seed: its plan, the lifecycle with the plan's faults injected during each phase, quiescence, then
``qosym check`` (delivery judged for the seed's own events) and the faults' own proofs."""

from __future__ import annotations

import random
import string
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from qosym_cli.bench.common import subscribed_topics
from qosym_cli.chaos.faults import Injected, Injector
from qosym_cli.chaos.lifecycle import Lifecycle
from qosym_cli.chaos.plan import PHASES, Fault, make_plan
from qosym_cli.paths import repo_root
from qosym_cli.stack import LocalStack
from qosym_cli.tokens import mint_token


@dataclass
class SeedResult:
    seed: int
    children: int
    plan: list[Fault]
    injected: list[Injected] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    failed_step: str = ""  # the lifecycle step that did not complete, with why
    facts: dict[str, Any] = field(default_factory=dict)
    retried: dict[str, int] = field(default_factory=dict)
    restarts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def faulty_injections(self) -> list[Injected]:
        return [i for i in self.injected if not i.ok]

    @property
    def ok(self) -> bool:
        return (
            not self.findings
            and not self.failed_step
            and not self.faulty_injections
            and (len(self.injected) == len(self.plan))
        )

    def by_kind(self) -> Counter[str]:
        return Counter(i.fault.kind for i in self.injected if i.ok)

    def as_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "ok": self.ok,
            "children": self.children,
            "seconds": round(self.seconds, 1),
            "faults_by_kind": dict(sorted(self.by_kind().items())),
            "faults": [i.as_dict() for i in self.injected],
            "planned": len(self.plan),
            "findings": self.findings,
            "failed_step": self.failed_step,
            "lifecycle": self.facts,
            "requests_retried": self.retried,
            "restarts": self.restarts,
        }


def targets(stack: LocalStack) -> tuple[list[str], list[str], list[str], list[str], dict[str, list[str]]]:
    """What a plan may hit: service processes (not the web frontends), consumers processes, consumed topics,
    service databases; and each consumed topic's subscribers."""
    services = set(stack.state.database_urls)
    processes = [r.name for r in stack.state.service_processes() if r.service in services]
    consumers = [name for name in processes if name.endswith("-consumers")]
    subscribers: dict[str, list[str]] = {}
    for service, topics in subscribed_topics().items():
        for topic in topics:
            subscribers.setdefault(topic, []).append(service)
    return processes, consumers, sorted(subscribers), sorted(services), subscribers


def plan_for(stack: LocalStack, seed: int) -> list[Fault]:
    processes, consumers, topics, databases, _ = targets(stack)
    return make_plan(seed, processes, consumers, topics, databases)


def _nonce() -> str:
    return "".join(random.SystemRandom().choice(string.ascii_lowercase) for _ in range(4))


def run_seed(stack: LocalStack, seed: int, children: int, concurrency: int = 16) -> SeedResult:
    started = time.monotonic()
    since = datetime.now(UTC)
    processes, consumers, topics, databases, subscribers = targets(stack)
    result = SeedResult(seed, children, make_plan(seed, processes, consumers, topics, databases))
    injector = Injector(stack, seed, subscribers)
    lifecycle = Lifecycle(stack, injector, seed, children, _nonce(), concurrency)
    try:
        injector.heal()
        for phase, step in lifecycle.phases().items():
            _phase(injector, phase, step, [f for f in result.plan if f.phase == phase])
        injector.settle_kill_points()
        lifecycle.quiet()
    except Exception as error:  # a step that did not complete fails the seed, and says where
        result.failed_step = f"{type(error).__name__}: {str(error)[:600]}"
        result.facts["traceback"] = traceback.format_exc()[-2000:]
        try:
            lifecycle.shift_attendance(0)
            injector.settle_kill_points()
            lifecycle.quiet()
        except Exception as again:  # the stack stays broken: the check below says how
            result.facts["heal_error"] = f"{type(again).__name__}: {str(again)[:300]}"
    else:
        lifecycle.shift_attendance(0)
        lifecycle.quiet()
    injector.verify_poison()
    result.injected = injector.injected
    result.findings = _check(stack, since)
    result.facts.update(lifecycle.facts)
    result.retried = dict(sorted(lifecycle.retries.counts.items()))
    result.restarts = dict(sorted(injector.restarts.items()))
    result.seconds = time.monotonic() - started
    return result


def _phase(injector: Injector, phase: str, step: Any, faults: list[Fault]) -> None:
    """Run the phase's step; meanwhile inject its faults at their delays (those left when it ends, right after)."""
    ended = threading.Event()
    began = time.monotonic()

    def inject() -> None:
        for fault in faults:
            ended.wait(max(0.0, began + fault.delay_s - time.monotonic()))
            injector.inject(fault)

    worker = threading.Thread(target=inject, name=f"chaos-{phase}", daemon=True)
    worker.start()
    try:
        step()
    finally:
        ended.set()
        worker.join()


def _check(stack: LocalStack, since: datetime) -> list[str]:
    from qosym_cli.check import check

    auditor = mint_token(stack.home, "auditor", "qosym-chaos")
    try:
        found = check(
            stack.state.database_urls,
            stack.api_url("payments"),
            auditor,
            repo_root() / "docs" / "asyncapi",
            since=since,
        )
    except Exception as error:  # the checker could not read the stack: that is a finding too
        return [f"check-failed: {type(error).__name__}: {str(error)[:300]}"]
    return [f.line() for f in found]


def histogram(results: list[SeedResult]) -> Counter[str]:
    total: Counter[str] = Counter()
    for result in results:
        total.update(result.by_kind())
    return total


__all__ = ["PHASES", "SeedResult", "histogram", "plan_for", "run_seed"]
