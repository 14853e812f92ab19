"""A seed's plan: which faults, on what, during which lifecycle phase and how long into it, from
``random.Random(seed)`` alone (the same seed always gives the same plan, whatever the stack holds)."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any

PHASES: tuple[str, ...] = ("registrations", "round", "enrolments", "month", "batch")
"""The lifecycle, in order: people and children registered; a round opened, applied to, closed and allocated;
providers and enrolments; a month of attendance marked, submitted and confirmed; the month's payment batch."""

KINDS: tuple[str, ...] = (
    "kill",  # SIGKILL of a service process (api, consumers or relay), then started again as `qosym up` does
    "kill-point",  # a consumers process armed with the chassis' fault hook dies at its next event's kill point
    "postgres-restart",  # the PostgreSQL server stopped (fast) and started again: every connection lost
    "redis-restart",  # Redis stopped, left down a moment, started again (empty)
    "drop-connections",  # every service connection to one database terminated (pg_terminate_backend)
    "replay",  # every outbox marked for publishing again over a window (`qosym replay`): duplicated deliveries
    "poison",  # a malformed record produced straight to a topic: must end in a dead letter
)
BASE: tuple[str, ...] = ("kill", "kill", "kill-point", "postgres-restart", "redis-restart", "replay", "poison")
"""Every seed injects each of these; up to ``EXTRA`` more faults of any kind are drawn on top."""
EXTRA = 3
KILL_POINTS = ("before_commit", "after_commit")
REPLAY_WINDOWS_S = (30, 120, 600)


@dataclass(frozen=True)
class Fault:
    kind: str
    phase: str
    delay_s: float  # after the phase began (injected at the phase's end if it ends sooner)
    target: str = ""  # a process (kill, kill-point), a topic (poison), a database (drop-connections)
    detail: str = ""  # the kill point, or the replay window in seconds

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        what = " ".join(part for part in (self.target, self.detail) if part)
        return f"{self.phase} +{self.delay_s:.1f}s {self.kind} {what}".rstrip()


def make_plan(
    seed: int,
    processes: list[str],
    consumers: list[str],
    topics: list[str],
    databases: list[str],
) -> list[Fault]:
    """The seed's faults in injection order (phase, then delay). ``processes``: the service processes a kill may
    hit; ``consumers``: the consumers processes a kill point may arm; ``topics``: topics someone consumes."""
    rng = random.Random(seed)
    kinds = list(BASE) + [rng.choice(KINDS) for _ in range(rng.randint(0, EXTRA))]
    faults = []
    for kind in kinds:
        phase = rng.choice(PHASES)
        delay = round(rng.uniform(0.0, 8.0), 1)
        target, detail = "", ""
        if kind == "kill":
            target = rng.choice(sorted(processes))
        elif kind == "kill-point":
            target, detail = rng.choice(sorted(consumers)), rng.choice(KILL_POINTS)
        elif kind == "poison":
            target = rng.choice(sorted(topics))
        elif kind == "drop-connections":
            target = rng.choice(sorted(databases))
        elif kind == "replay":
            detail = str(rng.choice(REPLAY_WINDOWS_S))
        faults.append(Fault(kind, phase, delay, target, detail))
    return sorted(faults, key=lambda f: (PHASES.index(f.phase), f.delay_s))
