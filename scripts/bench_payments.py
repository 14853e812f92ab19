"""Benchmark payments' money paths through the real consumer code (inbox, ledger, records, outbox).

A throwaway embedded PostgreSQL (or --server-url), the payments migrations, one region, one round with a
budget for N vouchers, P providers (--providers, default 1: every hold and accrual then locks the same payable
account). Then, with C concurrent deliveries through ``EventConsumer.deliver`` (what the Kafka subscriber calls;
the broker itself is not in the measurement; one subscriber handles its messages one at a time, so C = 1 is one
consumer process and C > 1 several) on an engine set up as the consumers process sets it up (no pre-ping):

1. fund N vouchers (VoucherAwarded: lock the round budget, funding transfer, voucher record);
2. confirm N enrolments (EnrolmentConfirmed: the month's hold);
3. post N accruals (AttendanceConfirmed: post the hold, accrual transfer, accrual record, PaymentAccrued);
4. post the next month of each (AttendanceConfirmed for December: its hold is made on demand, then posted; what
   every month-end after an enrolment's first month does).

With ``--batch B`` the funding phase (1) and the two month-end phases (3 and 4) are measured both ways in the same
run, on the same database: one event per transaction through ``EventConsumer.deliver`` and the per-event handlers
(``flows.on_voucher_awarded``, ``flows.on_payable_month``) for the first half of the vouchers or enrolments, and
polls of B events through ``EventConsumer.deliver_batch`` (one transaction per poll) with payments' subscriptions
as the consumers process registers them (``Many``: ``batch_flows.on_many_vouchers_awarded``,
``batch_flows.on_many_payable_months``) for the second half.
Each batch phase prints its ratio to the per-event phase before it.

Then the reconciliation SQL over the whole ledger is timed, and must find nothing. ``--traced`` adds what a
running service adds to every statement: the asyncpg OpenTelemetry instrumentation, spans written to a file.

    uv run python scripts/bench_payments.py --count 500000 --concurrency 8
    uv run python scripts/bench_payments.py --count 20000 --concurrency 1 --batch 500
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
from benchdb import machine, on_postgres, scratch_database

from payments.adapters.ledger_checks import ledger_findings
from payments.bootstrap import standalone_dependencies
from payments.entrypoints.consumers import SUBSCRIPTIONS, register
from payments.service_layer import flows
from payments.service_layer.dependencies import Dependencies
from qosym_chassis.consumer import EventConsumer, IncomingMessage, Outcome, Subscriptions
from qosym_chassis.db import make_engine, make_session_factory
from qosym_chassis.telemetry import setup_tracing, shutdown_tracing
from qosym_contracts.allocation import District, LocalisedName, RegionConfiguredV1, RoundOpenedV1, VoucherAwardedV1
from qosym_contracts.attendance import AttendanceConfirmedV1
from qosym_contracts.catalog import EnrolmentConfirmedV1, ProviderVerifiedV1

MONTHLY, MONTHS = 1_500_000, 9
PER_EVENT: Subscriptions[
    Dependencies
] = {  # the per-event handlers of the paths payments consumes set-based: the baseline of --batch
    VoucherAwardedV1: flows.on_voucher_awarded,
    AttendanceConfirmedV1: flows.on_payable_month,
}


def region_event() -> RegionConfiguredV1:
    name = LocalisedName(en="Astana", kk="Астана", ru="Астана")
    return RegionConfiguredV1(
        region_code="astana",
        revision=1,
        name=name,
        timezone="Asia/Almaty",
        districts=[District(code="yesil", name=name)],
        consultation_points=[],
        directions=["sports"],
        child_age_min=4,
        child_age_max=18,
        voucher_monthly_value_tiyn={"sports": MONTHLY},
        voucher_months=MONTHS,
        priority_weights={},
        budget_tiyn=0,
        direction_quotas={"sports": 1.0},
    )


def round_opened(budget: int) -> RoundOpenedV1:
    return RoundOpenedV1(
        round_id=uuid.uuid4(),
        region_code="astana",
        application_opens_at=datetime(2026, 8, 1, tzinfo=UTC),
        application_closes_at=datetime(2026, 8, 20, tzinfo=UTC),
        reference_date=date(2026, 9, 1),
        seed_sha256="0" * 64,
        budget_tiyn=budget,
    )


def voucher_awarded(round_id: uuid.UUID) -> VoucherAwardedV1:
    return VoucherAwardedV1(
        voucher_id=uuid.uuid4(),
        application_id=uuid.uuid4(),
        child_id=uuid.uuid4(),
        region_code="astana",
        district_code="yesil",
        round_id=round_id,
        direction="sports",
        monthly_value_tiyn=MONTHLY,
        months=MONTHS,
        valid_until=date(2027, 5, 31),
    )


def provider_verified() -> ProviderVerifiedV1:
    return ProviderVerifiedV1(
        provider_id=uuid.uuid4(),
        bin="080540014021",
        name="Bench School",
        region_code="astana",
        district_code="yesil",
        iban="KZ86125KZT5004100100",
        bank_bic="HSBKKZKX",
    )


def enrolment_confirmed(award: VoucherAwardedV1, provider_id: uuid.UUID) -> EnrolmentConfirmedV1:
    return EnrolmentConfirmedV1(
        enrolment_id=uuid.uuid4(),
        child_id=award.child_id,
        programme_id=uuid.uuid4(),
        provider_id=provider_id,
        voucher_id=award.voucher_id,
        direction="sports",
        region_code="astana",
        district_code="yesil",
        price_per_month_tiyn=1_200_000,
        sessions_per_month=9,
        occurred_at=datetime(2026, 11, 3, 9, tzinfo=UTC),
    )


def attendance_confirmed(
    enrolment: EnrolmentConfirmedV1, payable: int, planned: int, period: str = "2026-11"
) -> AttendanceConfirmedV1:
    return AttendanceConfirmedV1(
        timesheet_id=uuid.uuid4(),
        enrolment_id=enrolment.enrolment_id,
        child_id=enrolment.child_id,
        programme_id=enrolment.programme_id,
        provider_id=enrolment.provider_id,
        region_code="astana",
        period=period,
        planned_sessions=planned,
        payable_sessions=payable,
        attended_sessions=payable,
        basis="guardian_confirmed",
    )


def msg(event) -> IncomingMessage:  # type: ignore[no-untyped-def]
    return IncomingMessage(topic=event.topic, body=event.model_dump_json().encode())


def backend_cpu_s(pids: list[int]) -> dict[int, float]:
    """CPU seconds (user + system) of local PostgreSQL backends, from /proc (empty for a remote server)."""
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return found


async def analyze(url: str) -> None:
    """Current planner statistics, as autovacuum keeps them on a database in service (a fresh one has none, and plans
    cached while a table had a few rows would scan it whole once it has thousands)."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def bench_backends(server_url: str, database: str) -> list[int]:
    conn = await asyncpg.connect(server_url)
    try:
        rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", database)
    finally:
        await conn.close()
    return [row["pid"] for row in rows]


async def phase(
    name: str,
    consumer: EventConsumer,
    events: list,  # type: ignore[type-arg]
    concurrency: int,
    backends: Callable[[], Awaitable[list[int]]],
    before: Callable[[], Awaitable[None]],
) -> float:
    queue: asyncio.Queue = asyncio.Queue()  # type: ignore[type-arg]
    for event in events:
        queue.put_nowait(event)
    bad: list[Outcome] = []

    async def worker() -> None:
        while not queue.empty():
            outcome = await consumer.deliver(msg(queue.get_nowait()))
            if outcome is not Outcome.APPLIED:
                bad.append(outcome)

    await before()
    server_before = backend_cpu_s(await backends())
    client_before = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    client_ms = (time.process_time() - client_before) * 1000 / len(events)
    server_after = backend_cpu_s(await backends())
    server_ms = sum(cpu - server_before.get(pid, 0.0) for pid, cpu in server_after.items()) * 1000 / len(events)
    print(
        f"{name}: {len(events)} events in {elapsed:.1f} s = {len(events) / elapsed:.0f} events/s"
        f" (CPU per event: consumer {client_ms:.2f} ms, PostgreSQL {server_ms:.2f} ms)"
        + (f", {len(bad)} not applied" if bad else "")
    )
    return len(events) / elapsed


async def batch_phase(
    name: str,
    consumer: EventConsumer,
    events: list,  # type: ignore[type-arg]
    size: int,
    concurrency: int,
    backends: Callable[[], Awaitable[list[int]]],
    before: Callable[[], Awaitable[None]],
    baseline: float,
) -> None:
    """The events in polls of ``size`` through ``EventConsumer.deliver_batch`` (one transaction per poll, the
    set-based handlers registered as ``Many``)."""
    queue: asyncio.Queue = asyncio.Queue()  # type: ignore[type-arg]
    for start in range(0, len(events), size):
        queue.put_nowait([msg(e) for e in events[start : start + size]])
    bad: list[Outcome] = []

    async def worker() -> None:
        while not queue.empty():
            outcomes = await consumer.deliver_batch(queue.get_nowait())
            bad.extend(o for o in outcomes if o is not Outcome.APPLIED)

    await before()
    server_before = backend_cpu_s(await backends())
    client_before = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    client_ms = (time.process_time() - client_before) * 1000 / len(events)
    server_after = backend_cpu_s(await backends())
    server_ms = sum(cpu - server_before.get(pid, 0.0) for pid, cpu in server_after.items()) * 1000 / len(events)
    rate = len(events) / elapsed
    print(
        f"{name}: {len(events)} events in batches of {size} in {elapsed:.1f} s = {rate:.0f} events/s"
        f" (CPU per event: consumer {client_ms:.2f} ms, PostgreSQL {server_ms:.2f} ms),"
        f" {rate / baseline:.1f} x one event per transaction" + (f", {len(bad)} not applied" if bad else "")
    )


async def run(server_url: str, count: int, concurrency: int, providers: int, batch: int) -> None:
    async with scratch_database(server_url, "payments") as url:
        engine = make_engine(url, application_name="bench", pool_size=concurrency, pre_ping=False)
        sessions = make_session_factory(engine)
        batched = EventConsumer(service="payments", engine=engine, session_factory=sessions, batch_max=max(1, batch))
        register(batched, None)  # as the consumers process registers it: the hot paths set-based (Many)
        consumer = EventConsumer(service="payments", engine=engine, session_factory=sessions)
        consumer.route({**SUBSCRIPTIONS, **PER_EVENT}, standalone_dependencies())  # one event, one transaction
        opened = round_opened(count * MONTHLY * MONTHS)
        verified = [provider_verified() for _ in range(providers)]
        for event in (region_event(), opened, *verified):
            await consumer.deliver(msg(event))
        awards = [voucher_awarded(opened.round_id) for _ in range(count)]
        enrolments = [enrolment_confirmed(a, verified[i % providers].provider_id) for i, a in enumerate(awards)]
        confirmations = [attendance_confirmed(e, payable=7, planned=9) for e in enrolments]
        next_month = [attendance_confirmed(e, payable=9, planned=9, period="2026-12") for e in enrolments]
        backends = functools.partial(bench_backends, server_url, url.rsplit("/", 1)[1])
        stats = functools.partial(analyze, url)
        if not batch:
            await phase("fund vouchers (VoucherAwarded)", consumer, awards, concurrency, backends, stats)
        else:
            half = count // 2
            rate = await phase(
                "fund vouchers (VoucherAwarded), one per transaction",
                consumer,
                awards[:half],
                concurrency,
                backends,
                stats,
            )
            await batch_phase(
                "fund vouchers (VoucherAwarded), batched",
                batched,
                awards[half:],
                batch,
                concurrency,
                backends,
                stats,
                rate,
            )
        await phase("hold the month (EnrolmentConfirmed)", consumer, enrolments, concurrency, backends, stats)
        if not batch:
            await phase("post accruals (AttendanceConfirmed)", consumer, confirmations, concurrency, backends, stats)
            await phase(
                "post the next month, hold on demand (AttendanceConfirmed)",
                consumer,
                next_month,
                concurrency,
                backends,
                stats,
            )
        else:  # the first half one event per transaction, the second half in batches
            half = count // 2
            for label, events in (
                ("post accruals (AttendanceConfirmed)", confirmations),
                ("post the next month, hold on demand (AttendanceConfirmed)", next_month),
            ):
                rate = await phase(
                    f"{label}, one per transaction", consumer, events[:half], concurrency, backends, stats
                )
                await batch_phase(
                    f"{label}, batched", batched, events[half:], batch, concurrency, backends, stats, rate
                )
        started = time.perf_counter()
        async with make_session_factory(engine)() as session:
            findings = await ledger_findings(session)
        print(f"reconciliation SQL over the ledger: {time.perf_counter() - started:.1f} s, {len(findings)} findings")
        print(machine())
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000, help="vouchers, enrolments and accruals")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent deliveries")
    parser.add_argument("--providers", type=int, default=1, help="providers the enrolments are spread over")
    parser.add_argument("--batch", type=int, default=0, help="also post months in batches of this many events")
    parser.add_argument("--traced", action="store_true", help="asyncpg OpenTelemetry spans, as a running service")
    parser.add_argument("--server-url", default=os.environ.get("QOSYM_POSTGRES_URL"), help="PostgreSQL server URL")
    args = parser.parse_args()
    bench = functools.partial(
        run, count=args.count, concurrency=args.concurrency, providers=args.providers, batch=args.batch
    )
    traces = Path(tempfile.mkdtemp(prefix="qosym-bench-traces-"))
    if args.traced:
        setup_tracing("payments", "bench", traces / "traces.jsonl")
    try:
        on_postgres(args.server_url, bench)
    finally:
        shutdown_tracing()
        shutil.rmtree(traces, ignore_errors=True)


if __name__ == "__main__":
    main()
