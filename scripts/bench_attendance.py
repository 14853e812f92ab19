"""Benchmark attendance's month-end: submitting and confirming N timesheets, with their outbox rows.

Creates a fresh database (on --server-url, or on a throwaway embedded PostgreSQL), migrates it, and inserts in SQL
(not through the API) one region, N / 20 programmes of 20 children each (Mondays and Wednesdays, the schedule of
October 2026 in Astana: 7 planned sessions, the 26th being a public holiday), their enrolments and guardians, and
the draft October timesheets with every session marked (one in ten absent). Then it times, through the service's
own use cases:

1. submission: every provider (20 groups each) submits its month in one request — set-based tally, payable rule,
   AttendanceSubmitted outbox rows with every session, decisions;
2. guardians' confirmations: --guardians guardians each confirm their two children's months in one request
   (object-level authorisation per month, then one statement);
3. the confirmation deadline: every month nobody answered is deemed confirmed (the region's rule) in one statement,
   with its AttendanceConfirmed outbox row.

    uv run python scripts/bench_attendance.py --count 500000
    uv run python scripts/bench_attendance.py --count 500000 --server-url postgresql://postgres@127.0.0.1:5432
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, datetime

import asyncpg
from benchdb import machine, on_postgres, scratch_database
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attendance.adapters import region_repository
from attendance.domain.rules import AttendanceRules
from attendance.service_layer import confirmations, timesheets
from attendance.service_layer.access import Caller
from attendance.service_layer.dependencies import Dependencies
from qosym_chassis.clock import Clock
from qosym_chassis.db import make_engine, make_session_factory

GROUP = 20  # children per programme
GROUPS_PER_PROVIDER = 20
PERIOD = "2026-10"
SUBMITTED_AT = datetime(2026, 11, 2, 5, tzinfo=UTC)  # Nov 2, 10:00 in Astana: before the deadlines
CONFIRMED_AT = datetime(2026, 11, 3, 5, tzinfo=UTC)
DEADLINE_PASSED = datetime(2026, 11, 6, 5, tzinfo=UTC)


def at(sessions: async_sessionmaker[AsyncSession], instant: datetime) -> Dependencies:
    """The use cases' dependencies on a clock standing at ``instant`` (as QOSYM_CLOCK_OFFSET_S shifts it)."""
    return Dependencies(sessions=sessions, clock=Clock(offset=instant - datetime.now(UTC)))


SEED = """
INSERT INTO region (code, revision, timezone) VALUES ('bench', 1, 'Asia/Almaty');
INSERT INTO programme (id, provider_id, region_code, district_code, sessions_per_month, capacity, schedule, status,
                       source_at)
SELECT uuid_in(md5('programme' || n)::cstring), uuid_in(md5('provider' || (n / {per_provider}))::cstring), 'bench',
       'district' || (n % 6), 8, {group},
       '[{{"weekday": 1, "start": "16:00:00", "end": "17:30:00"}}, {{"weekday": 3, "start": "16:00:00", "end": "17:30:00"}}]',
       'published', '2026-09-01'
FROM generate_series(0, {programmes} - 1) AS n;
INSERT INTO enrolment (id, child_id, programme_id, provider_id, voucher_id, region_code, district_code,
                       sessions_per_month, starts_at)
SELECT gen_random_uuid(), uuid_in(md5('child' || n)::cstring), p.id, p.provider_id, gen_random_uuid(), 'bench',
       p.district_code, 8, '2026-09-01T04:00:00Z'
FROM generate_series(0, {count} - 1) AS n
JOIN programme p ON p.id = uuid_in(md5('programme' || (n / {group}))::cstring);
INSERT INTO guardianship (child_id, guardian_id, active)
SELECT child_id, uuid_in(md5('guardian' || (row_number() OVER (ORDER BY child_id) / 2))::cstring), true
FROM enrolment;
INSERT INTO timesheet (id, enrolment_id, period, child_id, programme_id, provider_id, region_code, district_code,
                       status, created_at)
SELECT gen_random_uuid(), id, '{period}', child_id, programme_id, provider_id, region_code, district_code, 'draft',
       '2026-10-05T12:00:00Z'
FROM enrolment;
INSERT INTO session_mark (timesheet_id, starts_at, ends_at, session_date, status, scheduled, marked_by, marked_at)
SELECT t.id, s.day + time '11:00', s.day + time '12:30', s.day,
       CASE WHEN abs(hashtext(t.id::text || s.day)) % 10 = 0 THEN 'absent' ELSE 'attended' END, true,
       'provider_staff:bench', '2026-10-29T12:00:00Z'
FROM timesheet t
CROSS JOIN (VALUES (date '2026-10-05'), ('2026-10-07'), ('2026-10-12'), ('2026-10-14'), ('2026-10-19'),
                   ('2026-10-21'), ('2026-10-28')) AS s(day);
ANALYZE;
"""


async def run(server_url: str, count: int, guardians: int) -> None:
    async with scratch_database(server_url, "attendance") as url:
        engine = make_engine(url, application_name="bench")
        sessions = make_session_factory(engine)
        programmes = count // GROUP
        conn = await asyncpg.connect(url, server_settings={"timezone": "UTC"})
        started = time.perf_counter()
        await conn.execute(
            SEED.format(
                count=programmes * GROUP,
                programmes=programmes,
                group=GROUP,
                per_provider=GROUPS_PER_PROVIDER,
                period=PERIOD,
            ),
            timeout=3600,
        )
        providers = [r["provider_id"] for r in await conn.fetch("SELECT DISTINCT provider_id FROM programme")]
        marks = await conn.fetchval("SELECT count(*) FROM session_mark")
        print(f"synthetic data: {programmes * GROUP} drafts, {marks} marks in {time.perf_counter() - started:.1f} s")
        async with sessions() as session, session.begin():
            await region_repository.add_rules(
                session, "bench", AttendanceRules(no_answer="deemed_confirmed"), "administrator:bench", SUBMITTED_AT
            )

        started = time.perf_counter()
        submitted = 0
        for provider_id in providers:
            caller = Caller(subject="bench", role="provider_staff", scope={"provider": str(provider_id)})
            result = await timesheets.submit(at(sessions, SUBMITTED_AT), caller, PERIOD, provider_id=provider_id)
            submitted += result.submitted
        elapsed_submit = time.perf_counter() - started
        print(
            f"submit: {submitted} timesheets by {len(providers)} providers (one request each) in {elapsed_submit:.1f} s"
            f" = {submitted / elapsed_submit:,.0f} timesheets/s"
        )

        pairs = await conn.fetch(
            "SELECT g.guardian_id, array_agg(t.id) AS ids FROM guardianship g JOIN timesheet t ON t.child_id = g.child_id"
            " GROUP BY g.guardian_id ORDER BY g.guardian_id LIMIT $1",
            guardians,
        )
        started = time.perf_counter()
        by_guardians = 0
        for pair in pairs:
            caller = Caller(subject=str(pair["guardian_id"]), role="parent")
            by_guardians += len(
                (await confirmations.confirm(at(sessions, CONFIRMED_AT), caller, list(pair["ids"]))).confirmed
            )
        elapsed_guardians = time.perf_counter() - started
        print(
            f"guardians: {len(pairs)} requests confirmed {by_guardians} timesheets in {elapsed_guardians:.1f} s"
            f" = {len(pairs) / elapsed_guardians:,.0f} requests/s"
        )

        started = time.perf_counter()
        swept = await confirmations.close_windows(at(sessions, DEADLINE_PASSED), DEADLINE_PASSED, "bench")
        elapsed_sweep = time.perf_counter() - started
        print(f"deadline: {swept} in {elapsed_sweep:.1f} s (one statement for the region)")

        outbox = dict(await conn.fetch("SELECT event_type, count(*) FROM outbox GROUP BY 1"))
        confirmed = await conn.fetchval("SELECT count(*) FROM timesheet WHERE status = 'confirmed'")
        print(f"outbox rows: {outbox}; confirmed timesheets: {confirmed}")
        assert outbox.get("attendance.AttendanceSubmitted") == submitted == programmes * GROUP
        assert outbox.get("attendance.AttendanceConfirmed") == confirmed == programmes * GROUP
        total = elapsed_submit + elapsed_guardians + elapsed_sweep
        print(f"submit + confirm of {confirmed} timesheets with their outbox rows: {total:.1f} s")
        print(machine())
        await conn.close()
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000, help="timesheets (enrolments) in the month")
    parser.add_argument("--guardians", type=int, default=5_000, help="guardians who confirm their children themselves")
    parser.add_argument("--server-url", default=os.environ.get("QOSYM_POSTGRES_URL"), help="PostgreSQL server URL")
    args = parser.parse_args()
    on_postgres(args.server_url, lambda url: run(url, args.count, args.guardians))


if __name__ == "__main__":
    main()
