"""Benchmark a round's events through every consumer that subscribes to them (issue 17, the consumer side).

A throwaway embedded PostgreSQL (or --server-url), then for each service (notifications, catalog, attendance,
insights, conversations) a scratch database with its migrations and an ``EventConsumer`` registered as the
consumers process registers it (``entrypoints.consumers.register`` on a service context: engine without pre-ping,
the service's real dependencies; the broker is not in the measurement). The events are those of a round of N
applications, each of them only to the services that subscribe to its type:

1. the prerequisites: the region, N ChildRegistered and N GuardianshipEstablished (registry), RoundOpened, N
   ApplicationSubmitted, RoundClosed (notifications tells every open application then: one event, N notices);
2. the round's burst, what allocate publishes: a VoucherAwarded for the first --awarded share of the
   applications, an ApplicationWaitlisted (with its queue position) for each of the others.

Everything goes in polls of --batch events through ``EventConsumer.deliver_batch`` (one transaction per poll, what
the Kafka subscriber calls), one poll at a time (one consumer process). Each phase prints its events/s.

The same-run baseline: for a service whose handlers of a phase's events are set-based (``Many``) the phase is
measured twice on the same database: the first half of its events with the per-event handlers (``per_event``
below: what the service registered before, each event in order inside the poll's transaction), the second half as
the service registers it now, with the ratio. ``--reverse`` feeds the burst before the registry's events (a new consumer
reading allocation's topics first: every result parks until its child is known, then is released).

    uv run --frozen python scripts/bench_round_consumers.py --count 50000
    uv run --frozen python scripts/bench_round_consumers.py --count 10000 --only notifications
"""

from __future__ import annotations

import argparse
import importlib
import os
import random
import shutil
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
from benchdb import machine, on_postgres, scratch_database

from qosym_chassis.consumer import EventConsumer, IncomingMessage, Outcome, Subscriptions
from qosym_chassis.context import build_context
from qosym_chassis.settings import ServiceSettings
from qosym_contracts.allocation import (
    ApplicationSubmittedV1,
    ApplicationWaitlistedV1,
    District,
    LocalisedName,
    RegionConfiguredV1,
    RoundClosedV1,
    RoundOpenedV1,
    VoucherAwardedV1,
)
from qosym_contracts.envelope import IntegrationEvent
from qosym_contracts.registry import ChildRegisteredV1, GuardianshipEstablishedV1

SERVICES = ("notifications", "catalog", "attendance", "insights", "conversations")
DISTRICTS = ("yesil", "almaty", "saryarka", "baikonyr", "nura")
DIRECTIONS = ("sports", "creativity", "intellectual")
MONTHLY, MONTHS = 1_500_000, 9


def per_event(service: str) -> Subscriptions[Any]:
    """The per-event handlers a service had for the round's burst before its set-based ones: the baseline."""
    if service == "notifications":
        from notifications.service_layer import allocation_news

        return {
            ApplicationSubmittedV1: allocation_news.on_application_submitted,
            ApplicationWaitlistedV1: allocation_news.on_waitlisted,
            VoucherAwardedV1: allocation_news.on_voucher_awarded,
        }
    if service == "insights":
        from insights.service_layer import projections

        return {
            ChildRegisteredV1: projections.on_child_details,
            ApplicationSubmittedV1: projections.on_application_submitted,
            ApplicationWaitlistedV1: projections.on_application_waitlisted,
            VoucherAwardedV1: projections.on_voucher_awarded,
        }
    return {}


class Round:
    """The events of one round of ``count`` applications."""

    def __init__(self, count: int, awarded_share: float, seed: int = 17) -> None:
        rng = random.Random(seed)
        name = LocalisedName(en="Astana", kk="Астана", ru="Астана")
        self.region = RegionConfiguredV1(
            region_code="astana",
            revision=1,
            name=name,
            timezone="Asia/Almaty",
            districts=[District(code=d, name=name, child_population=40_000) for d in DISTRICTS],
            consultation_points=[],
            directions=list(DIRECTIONS),
            child_age_min=6,
            child_age_max=18,
            voucher_monthly_value_tiyn=dict.fromkeys(DIRECTIONS, MONTHLY),
            voucher_months=MONTHS,
            priority_weights={"large_family": 2},
            budget_tiyn=count * MONTHLY * MONTHS,
            direction_quotas=dict.fromkeys(DIRECTIONS, 1 / len(DIRECTIONS)),
        )
        round_id = uuid.uuid4()
        self.opened = RoundOpenedV1(
            round_id=round_id,
            region_code="astana",
            application_opens_at=datetime(2026, 8, 1, tzinfo=UTC),
            application_closes_at=datetime(2026, 8, 20, tzinfo=UTC),
            reference_date=date(2026, 9, 1),
            seed_sha256="0" * 64,
            budget_tiyn=count * MONTHLY * MONTHS,
        )
        self.children: list[ChildRegisteredV1] = []
        self.guardianships: list[GuardianshipEstablishedV1] = []
        self.submitted: list[ApplicationSubmittedV1] = []
        for _ in range(count):
            child, guardian = uuid.uuid4(), uuid.uuid4()
            district = rng.choice(DISTRICTS)
            self.children.append(
                ChildRegisteredV1(
                    child_id=child,
                    guardian_id=guardian,
                    birth_date=date(2014 + rng.randrange(6), 1 + rng.randrange(12), 1 + rng.randrange(28)),
                    sex=rng.choice(("F", "M")),
                    region_code="astana",
                    district_code=district,
                )
            )
            self.guardianships.append(GuardianshipEstablishedV1(child_id=child, guardian_id=guardian))
            self.submitted.append(
                ApplicationSubmittedV1(
                    application_id=uuid.uuid4(),
                    round_id=round_id,
                    child_id=child,
                    region_code="astana",
                    district_code=district,
                    direction=rng.choice(DIRECTIONS),
                )
            )
        self.closed = RoundClosedV1(round_id=round_id, region_code="astana", seed_hex="00" * 32, applications=count)
        awarded = int(count * awarded_share)
        self.results: list[IntegrationEvent] = []
        queues: dict[tuple[str, str], int] = {}
        for i, application in enumerate(self.submitted):
            if i < awarded:
                self.results.append(
                    VoucherAwardedV1(
                        voucher_id=uuid.uuid4(),
                        application_id=application.application_id,
                        child_id=application.child_id,
                        region_code="astana",
                        district_code=application.district_code,
                        round_id=round_id,
                        direction=application.direction,
                        monthly_value_tiyn=MONTHLY,
                        months=MONTHS,
                        valid_until=date(2027, 5, 31),
                        assign_by=date(2026, 12, 20),
                    )
                )
                continue
            cell = (application.district_code, application.direction)
            queues[cell] = queues.get(cell, 0) + 1
            self.results.append(
                ApplicationWaitlistedV1(
                    application_id=application.application_id,
                    round_id=round_id,
                    child_id=application.child_id,
                    position=queues[cell],
                )
            )


def msg(event: IntegrationEvent) -> IncomingMessage:
    return IncomingMessage(topic=event.topic, body=event.model_dump_json().encode(), key=event.message_key)


def settings_for(service: str, database_url: str, home: Path) -> ServiceSettings:
    module = importlib.import_module(f"{service}.config")
    settings_class = next(
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, ServiceSettings) and value is not ServiceSettings
    )
    return settings_class(
        service_name=service,
        database_url=database_url,
        dev_mode=True,
        keys_dir=home / "keys",
        audit_head_dir=home / "audit-heads" / service,
        redis_url="redis://127.0.0.1:1/0",  # never reached by a consumer's handlers
        kafka_bootstrap_servers="127.0.0.1:1",  # the broker is not in the measurement
    )


class Bench:
    def __init__(self, consumer: EventConsumer, batch: int) -> None:
        self.consumer = consumer
        self.batch = batch
        self.bad: dict[str, int] = {}

    def wanted(self, events: Sequence[IntegrationEvent]) -> list[IntegrationEvent]:
        types = set(self.consumer.event_classes)
        return [e for e in events if type(e) in types]

    async def feed(self, name: str, events: Sequence[IntegrationEvent], consumer: EventConsumer | None = None) -> float:
        events = self.wanted(events)
        if not events:
            return 0.0
        consumer = consumer or self.consumer
        started = time.perf_counter()
        for start in range(0, len(events), self.batch):
            outcomes = await consumer.deliver_batch([msg(e) for e in events[start : start + self.batch]])
            for outcome in outcomes:
                if outcome is not Outcome.APPLIED:
                    self.bad[outcome.value] = self.bad.get(outcome.value, 0) + 1
        elapsed = time.perf_counter() - started
        rate = len(events) / elapsed
        print(f"  {name}: {len(events)} events in {elapsed:.2f} s = {rate:,.0f} events/s", flush=True)
        return rate


async def counts(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        parked = await conn.fetchval("SELECT count(*) FROM parked_event")
        dead = await conn.fetchval("SELECT count(*) FROM dead_letter")
    finally:
        await conn.close()
    return f"parked {parked}, dead letters {dead}"


async def analyze(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def bench_service(server_url: str, service: str, rnd: Round, batch: int, reverse: bool, home: Path) -> None:
    async with scratch_database(server_url, service) as url:
        settings = settings_for(service, url, home)
        ctx = build_context(settings, "consumers")
        register = importlib.import_module(f"{service}.entrypoints.consumers").register

        def make() -> EventConsumer:
            return EventConsumer(
                service=service, engine=ctx.engine, session_factory=ctx.session_factory, batch_max=batch
            )

        consumer = make()
        register(consumer, ctx)
        baseline = make()
        baseline.route(per_event(service), _deps_of(service, ctx))
        bench = Bench(consumer, batch)

        async def phase(name: str, events: Sequence[IntegrationEvent]) -> None:
            """With a per-event baseline for the events' types: its first half so, the second half as registered."""
            if reverse or not any(type(e) in baseline.event_classes for e in events):
                await bench.feed(name, events)
                return
            first, second = _halves(list(events))
            before = await bench.feed(f"{name}, per-event", first, baseline)
            await analyze(url)
            after = await bench.feed(f"{name}, as registered", second)
            if before and after:
                print(f"    ratio {after / before:.1f} x per-event", flush=True)

        print(f"{service} (consumes {', '.join(consumer.topics)}):", flush=True)
        try:
            await bench.feed("region", [rnd.region])
            if reverse:
                await bench.feed("round's burst first (allocation's topics read first)", [rnd.opened, *rnd.results])
            else:
                await phase("registry: ChildRegistered", rnd.children)
                await phase("registry: GuardianshipEstablished", rnd.guardianships)
            await bench.feed("RoundOpened", [rnd.opened])
            await phase("ApplicationSubmitted", rnd.submitted)
            await analyze(url)
            await bench.feed("RoundClosed (one event)", [rnd.closed])
            await analyze(url)
            if reverse:
                await bench.feed("registry: ChildRegistered (releases the parked)", rnd.children)
                await bench.feed("registry: GuardianshipEstablished (releases the parked)", rnd.guardianships)
            else:
                await phase("round's burst (VoucherAwarded, ApplicationWaitlisted)", rnd.results)
            outcomes = ", ".join(f"{n} {k}" for k, n in sorted(bench.bad.items())) or "every event applied"
            print(f"  {outcomes}; {await counts(url)}", flush=True)
        finally:
            await ctx.redis.aclose()
            await ctx.engine.dispose()


def _halves(events: list[IntegrationEvent]) -> tuple[list[IntegrationEvent], list[IntegrationEvent]]:
    """Each half with its share of every type, in the original order within each (allocation publishes the awards
    first)."""
    first: list[IntegrationEvent] = []
    second: list[IntegrationEvent] = []
    for kind in dict.fromkeys(type(e) for e in events):
        same = [e for e in events if type(e) is kind]
        first += same[: len(same) // 2]
        second += same[len(same) // 2 :]
    return first, second


def _deps_of(service: str, ctx: Any) -> Any:
    """The service's dependencies, as its ``register`` builds them."""
    bootstrap = importlib.import_module(f"{service}.bootstrap")
    if hasattr(bootstrap, "dependencies"):
        return bootstrap.dependencies(ctx.settings, ctx)
    return bootstrap.bootstrap(ctx.settings, ctx).deps


async def run(server_url: str, count: int, awarded: float, batch: int, only: list[str], reverse: bool) -> None:
    rnd = Round(count, awarded)
    awards = sum(isinstance(e, VoucherAwardedV1) for e in rnd.results)
    print(f"a round of {count} applications: {awards} awarded, {count - awards} waitlisted; polls of {batch}")
    home = Path(tempfile.mkdtemp(prefix="qosym-bench-round-"))
    try:
        for service in only or SERVICES:
            await bench_service(server_url, service, rnd, batch, reverse, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(machine())
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000, help="applications in the round")
    parser.add_argument("--awarded", type=float, default=0.05, help="share of the applications awarded a voucher")
    parser.add_argument("--batch", type=int, default=256, help="events per poll (QOSYM_CONSUMER_BATCH_MAX)")
    parser.add_argument("--only", action="append", choices=SERVICES, default=[], help="only this service")
    parser.add_argument("--reverse", action="store_true", help="the burst before the registry's events")
    parser.add_argument("--server-url", default=os.environ.get("QOSYM_POSTGRES_URL"), help="PostgreSQL server URL")
    args = parser.parse_args()

    async def job(server_url: str) -> None:
        await run(server_url, args.count, args.awarded, args.batch, args.only, args.reverse)

    on_postgres(args.server_url, job)


if __name__ == "__main__":
    main()
