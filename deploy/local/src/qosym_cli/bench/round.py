"""``qosym bench round --applications N``: a round of N applications allocated, until every consumer applied every
event it caused.

Set-up (through the APIs, reported but not the figure): a synthetic region applied as ``qosym region apply`` does,
N children in families registered (operator-assisted people, dev parent tokens), a round with quotas for about half
of them, opened, and N applications; then the pipeline is let come to rest. Measured: ``close`` and ``allocate``
through allocation's API, then until every consumer group's lag and every outbox's backlog are 0.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx

from qosym_cli.bench import setup, synth
from qosym_cli.bench.common import (
    BenchError,
    Figure,
    Settled,
    copy_baseline,
    kafka_baseline,
    marks,
    produced_since,
    server_url,
    troubles,
    watch_until_quiet,
)
from qosym_cli.bench.setup import bearer, expect
from qosym_cli.stack import LocalStack
from qosym_cli.tokens import mint_token


@dataclass
class Outcome:
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # what the run found wrong: printed, and the exit code is 1


def quotas_for(children: list[list[synth.ChildSpec]], share: float = 0.5) -> dict[str, dict[str, int]]:
    """Quotas for about ``share`` of the applicants of each district and direction (at least one seat each)."""
    cells: Counter[tuple[str, str]] = Counter((kid.district, kid.direction) for kids in children for kid in kids)
    quotas: dict[str, dict[str, int]] = {}
    for (district, direction), count in sorted(cells.items()):
        quotas.setdefault(district, {})[direction] = max(1, int(count * share))
    return quotas


def run(
    stack: LocalStack, applications: int, seed: int, concurrency: int, timeout_s: float, via: str = "api"
) -> Outcome:
    outcome = Outcome()
    started_at = datetime.now(UTC)
    region = synth.region(seed, "round")
    setup.apply_region(stack, region)
    families = synth.families(seed, "round", applications, synth.districts(region), date.today())
    people = [person for person, _ in families]
    children = [kids for _, kids in families]
    if via == "import":
        parents, child_ids, figure = setup.import_families(stack, people, children, region["code"], concurrency)
        outcome.figures.append(_setup(figure))
    else:
        parents, figure = setup.register_people(stack, people, region["code"], concurrency)
        outcome.figures.append(_setup(figure))
        child_ids, figure = setup.register_children(stack, parents, children, region["code"], concurrency)
        outcome.figures.append(_setup(figure))
    setup.quiet(stack, timeout_s)  # allocation knows every child and guardian before anyone applies
    round_id = setup.open_round(stack, region, quotas_for(children), f"bench round seed {seed}")
    if via == "import":
        applied, figure = setup.import_applications(stack, round_id, parents, child_ids, children, concurrency)
    else:
        applied, figure = setup.apply_all(stack, round_id, parents, child_ids, children, concurrency)
    outcome.figures.append(_setup(figure))
    if len(applied) != applications:
        raise BenchError(f"set-up: {len(applied)} of {applications} applications went through ({figure.note})")
    setup.quiet(stack, timeout_s)
    before = troubles(stack)
    ends = marks(stack)

    admin = bearer(mint_token(stack.home, "administrator", "qosym-bench"))

    def close_and_allocate() -> Any:
        with httpx.Client(base_url=stack.api_url("allocation"), headers=admin, timeout=timeout_s) as client:
            expect(client.post(f"/v1/rounds/{round_id}/close", json={"reason": "schedule_change"}), 200)
            return expect(client.post(f"/v1/rounds/{round_id}/allocate"), 200)

    rest = asyncio.run(watch_until_quiet(stack, timeout_s, action=close_and_allocate))
    summary, began, answered, settled = rest.result, rest.began, rest.answered, rest.at
    produced = produced_since(stack, ends)
    events = sum(produced.values())
    after = troubles(stack)

    n = len(applied)
    allocate = Figure("round: close + allocate (allocation API)", n, answered - began)
    allocate.compared_to(asyncio.run(copy_baseline(server_url(stack, "allocation"), n)).seconds)
    whole = Figure(
        "round: until every consumer applied every event",
        events,
        settled - began,
        note=f"{n} applications; events by producer: " + ", ".join(f"{s} {c}" for s, c in produced.items() if c),
    )
    kafka = asyncio.run(kafka_baseline(stack.state.kafka_bootstrap_servers or "", events))
    whole.compared_to(kafka.seconds)
    copy = Figure("baseline: raw COPY into a scratch table", n, allocate.baseline or 0.0)
    outcome.figures += [allocate, whole]
    outcome.figures += _stages(rest, began, answered, events, kafka.seconds)
    outcome.figures += [copy, kafka]
    outcome.facts = {
        "round_id": round_id,
        "region": region["code"],
        "applications": n,
        "awarded": summary["awarded"],
        "waitlisted": summary["waitlisted"],
        "events": events,
        "produced": produced,
        "new_dead_letters": after[0] - before[0],
        "new_parked": after[1] - before[1],
        "allocate_s": round(answered - began, 3),
        "outbox_drained_s": round(rest.outboxes_drained - began, 3),
        "drained_s": {service: round(at - began, 3) for service, at in sorted(rest.drained.items())},
        "caught_up_s": {group: round(at - began, 3) for group, at in sorted(rest.caught_up.items())},
        "started_at": started_at.isoformat(),
    }
    outcome.notes.append(
        f"set-up went through {'each service' + chr(39) + 's import command' if via == 'import' else 'the APIs'} "
        f"(rows marked 'set-up'); round {round_id} in region {region['code']}: "
        f"{summary['awarded']} awarded, {summary['waitlisted']} waitlisted of {n} applications"
    )
    outcome.notes.append(
        "ratio: seconds measured / seconds of the baseline for the same n (allocate vs a raw COPY of n rows; "
        "end to end vs raw produce+consume of as many messages as the round's events)"
    )
    if produced.get("allocation", 0) < n + 1:  # RoundClosed, and an award or a waitlisting per application
        outcome.problems.append(f"allocation published {produced.get('allocation', 0)} events for {n} applications")
    if summary["awarded"] + summary["waitlisted"] != n:
        outcome.problems.append(f"allocate decided {summary['awarded'] + summary['waitlisted']} of {n} applications")
    return outcome


def _stages(rest: Settled, began: float, answered: float, events: int, baseline_s: float) -> list[Figure]:
    """When every outbox was drained and when each consumer group caught up, in seconds from ``close`` (the
    watch starts when ``allocate`` answered: a stage already at rest shows the first reading after it). Each is
    compared to the same raw produce+consume baseline as the whole."""
    stages = [
        Figure("round: every outbox published (from close)", events, max(rest.outboxes_drained, answered) - began)
    ]
    for group, at in sorted(rest.caught_up.items()):
        stages.append(Figure(f"round: {group} consumers caught up (from close)", events, max(at, answered) - began))
    return [stage.compared_to(baseline_s) for stage in stages]


def _setup(figure: Figure) -> Figure:
    figure.name = f"set-up: {figure.name}"
    return figure
