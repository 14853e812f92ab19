"""``qosym bench surge --parents N``: a registration and application surge over HTTP, from a separate process.

Tokens: development tokens signed with the stack's own key (what the registry's JWKS publishes, so every service
verifies them as it verifies a logged-in parent's), not the SMS login flow: each person is registered by an
operator at a service point (``POST /v1/people``, no code), then acts with a parent token for their person id.
Three phases, each measured at the same concurrency and compared with ``/health/live`` of the same server for the
same number of requests: people registered, each registering one child, each applying in an open round (after the
pipeline came to rest: allocation learns children from registry's events).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from qosym_cli.bench import load, setup, synth
from qosym_cli.bench.common import Figure, troubles
from qosym_cli.bench.round import Outcome, quotas_for
from qosym_cli.stack import LocalStack


def _compared(figure: Figure, base_url: str, concurrency: int) -> list[Figure]:
    baseline = load.health_baseline(base_url, requests=figure.n, concurrency=concurrency).latencies
    base = baseline.figure(f"baseline: /health/live of the same server ({base_url})")
    figure.compared_to(base.seconds)
    return [figure, base]


def run(stack: LocalStack, parents: int, seed: int, concurrency: int, timeout_s: float) -> Outcome:
    outcome = Outcome()
    started_at = datetime.now(UTC)
    region = synth.region(seed, "surge")
    setup.apply_region(stack, region)
    families = synth.families(seed, "surge", parents, synth.districts(region), date.today())
    families = [(person, kids[:1]) for person, kids in families]  # one child each
    while len(families) < parents:  # families of two gave fewer parents: add more
        extra = synth.families(
            seed + len(families), "surge-more", parents - len(families), synth.districts(region), date.today()
        )
        families += [(person, kids[:1]) for person, kids in extra]
    families = families[:parents]
    people = [person for person, _ in families]
    children = [kids for _, kids in families]
    round_id = setup.open_round(stack, region, quotas_for(children), f"bench surge seed {seed}")
    before = troubles(stack)

    ids, people_figure = setup.register_people(stack, people, region["code"], concurrency, retries=0)
    child_ids, child_figure = setup.register_children(stack, ids, children, region["code"], concurrency, retries=0)
    setup.quiet(stack, timeout_s)
    applied, apply_figure = setup.apply_all(stack, round_id, ids, child_ids, children, concurrency, retries=0)
    setup.quiet(stack, timeout_s)

    outcome.figures += _compared(people_figure, stack.api_url("registry"), concurrency)
    outcome.figures += _compared(child_figure, stack.api_url("registry"), concurrency)
    outcome.figures += _compared(apply_figure, stack.api_url("allocation"), concurrency)
    after = troubles(stack)
    registered = sum(1 for i in ids if i)
    kids = sum(1 for row in child_ids for c in row if c)
    outcome.facts = {
        "round_id": round_id,
        "region": region["code"],
        "parents": parents,
        "people_registered": registered,
        "children_registered": kids,
        "applications": len(applied),
        "errors": sum(f.errors or 0 for f in (people_figure, child_figure, apply_figure)),
        "new_dead_letters": after[0] - before[0],
        "new_parked": after[1] - before[1],
        "started_at": started_at.isoformat(),
    }
    outcome.notes.append(
        "tokens: development tokens signed with the stack's key (qosym token), people registered by an operator "
        "(no SMS code); load from a spawned process; ratio: seconds for n requests / seconds for n /health/live "
        "requests of the same server at the same concurrency"
    )
    if registered != parents or kids != parents or len(applied) != parents:
        outcome.problems.append(
            f"of {parents} parents: {registered} registered, {kids} children, {len(applied)} applied"
        )
    return outcome
