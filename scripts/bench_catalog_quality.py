"""Benchmark catalog's quality signals: a search page with its signals, and an administrators' region listing.

Creates a fresh database (on --server-url, or on a throwaway embedded PostgreSQL), migrates it, adds the Astana
region (Asia/Almaty), one verified provider with P published programmes, E enrolments confirmed over the last
eight months (a fifth of them ended since), one attendance month per enrolment and month since its confirmation
(mostly attended), disputes on about 3 % of those months and a complaint per 50 enrolments, all inserted directly in
SQL. Then it times the public search query (20 programmes per page, each with its quality block) and the region
listing sorted by dispute rate (every programme's signals computed, 20 returned), the median of several runs each.

    uv run python scripts/bench_catalog_quality.py --programmes 2000 --enrolments 25000
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from datetime import UTC, datetime

import asyncpg
from benchdb import machine, on_postgres, scratch_database

from catalog.adapters import quality_queries, search_queries
from qosym_chassis.db import make_engine, make_session_factory

DISTRICTS = ["almaty", "baikonur", "yesil", "saryarka", "nura", "saraishyk"]
SEARCH = search_queries.Filters(region_code="astana", age=9)


async def populate(url: str, programmes_n: int, enrolments_n: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("INSERT INTO region (code, revision, timezone) VALUES ('astana', 1, 'Asia/Almaty')")
        provider_id = uuid.uuid4()
        await conn.execute(
            """
            INSERT INTO provider (id, bin, name, region_code, district_code, address, contacts, bank, status,
                                  registered_by)
            VALUES ($1, '080540014021', 'Bench School', 'astana', 'yesil', 'Main 1', '{}', '{}', 'verified', 'bench')
            """,
            provider_id,
        )
        await conn.execute(
            """
            INSERT INTO programme (id, provider_id, direction, title, description, age_min, age_max, language,
                                   schedule, sessions_per_month, price_per_month_tiyn, capacity, reserved,
                                   region_code, district_code, address, lat, lon)
            SELECT gen_random_uuid(), $1, (ARRAY['sports','creativity','intellectual'])[1 + n % 3],
                   jsonb_build_object('kk', 'P' || n, 'ru', 'P' || n, 'en', 'Programme ' || lpad(n::text, 6, '0')),
                   '{"kk": "d", "ru": "d", "en": "d"}', 6, 12, 'kk',
                   '[{"weekday": 2, "start": "16:00:00", "end": "17:00:00"}]', 8, 1200000, 40, 0,
                   'astana', ($2::text[])[1 + n % 6], 'Main 1', 51.1, 71.4
            FROM generate_series(1, $3) AS n
            """,
            provider_id,
            DISTRICTS,
            programmes_n,
        )
        await conn.execute(
            """
            WITH p AS (SELECT id, row_number() OVER (ORDER BY id) AS i, count(*) OVER () AS total FROM programme)
            INSERT INTO enrolment (id, programme_id, provider_id, child_id, requested_by, status, voucher_id,
                                   requested_at, confirmed_at, ended_at)
            SELECT gen_random_uuid(), p.id, $1, gen_random_uuid(), 'bench',
                   CASE WHEN n % 5 = 0 THEN 'ended' ELSE 'confirmed' END, gen_random_uuid(),
                   now() - make_interval(days => 1 + n % 240), now() - make_interval(days => n % 240),
                   CASE WHEN n % 5 = 0 THEN now() - make_interval(days => (n % 240) / 3) END
            FROM generate_series(1, $2) AS n JOIN p ON p.i = 1 + n % p.total
            """,
            provider_id,
            enrolments_n,
        )
        await conn.execute(
            """
            INSERT INTO attendance_month (enrolment_id, period, timesheet_id, programme_id, provider_id,
                                          planned_sessions, attended_sessions, submitted_at)
            SELECT e.id, to_char(m, 'YYYY-MM'), gen_random_uuid(), e.programme_id, e.provider_id, 8,
                   CASE WHEN abs(hashtext(e.id::text || m::text)) % 10 = 0 THEN 0 ELSE 6 END, now()
            FROM enrolment e,
                 generate_series(date_trunc('month', e.confirmed_at AT TIME ZONE 'Asia/Almaty'),
                                 date_trunc('month', coalesce(e.ended_at, now()) AT TIME ZONE 'Asia/Almaty')
                                     - interval '1 month',
                                 interval '1 month') AS m
            """
        )
        await conn.execute(
            """
            INSERT INTO timesheet_dispute (dispute_id, timesheet_id, enrolment_id, programme_id, period,
                                           disputed_sessions, opened_at)
            SELECT gen_random_uuid(), timesheet_id, enrolment_id, programme_id, period, 1, now()
            FROM attendance_month WHERE abs(hashtext(timesheet_id::text)) % 33 = 0
            """
        )
        await conn.execute(
            """
            INSERT INTO complaint (id, programme_id, provider_id, region_code, district_code, child_id, filed_by,
                                   category, text, status, created_at)
            SELECT gen_random_uuid(), e.programme_id, e.provider_id, 'astana', 'yesil', e.child_id, 'bench',
                   'other', 'a complaint of the benchmark', 'open', now()
            FROM enrolment e WHERE abs(hashtext(e.id::text)) % 50 = 0
            """
        )
        await conn.execute("ANALYZE")
        counts = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM enrolment) AS e, (SELECT count(*) FROM attendance_month) AS m, "
            "(SELECT count(*) FROM timesheet_dispute) AS d, (SELECT count(*) FROM complaint) AS c"
        )
        print(
            f"data: {programmes_n} programmes, {counts['e']} enrolments, {counts['m']} attendance months, "
            f"{counts['d']} disputes, {counts['c']} complaints"
        )
    finally:
        await conn.close()


async def timed(runs: int, action) -> float:  # type: ignore[no-untyped-def]
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        await action()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations) * 1000


async def run(server_url: str, programmes_n: int, enrolments_n: int, runs: int) -> None:
    async with scratch_database(server_url, "catalog") as url:
        started = time.perf_counter()
        await populate(url, programmes_n, enrolments_n)
        print(f"populated in {time.perf_counter() - started:.1f} s")
        engine = make_engine(url, application_name="bench")
        sessions = make_session_factory(engine)
        now = datetime.now(UTC)

        async def search() -> None:
            async with sessions() as session:
                rows, _ = await search_queries.search(session, SEARCH, "title", 20, 0, now.date())
                signals = await quality_queries.of_programmes(session, [r["id"] for r in rows], now, 10)
                assert len(rows) == 20 and signals.get(rows[0]["id"]) is not None

        async def listing() -> None:
            async with sessions() as session:
                items, total = await quality_queries.region_page(
                    session, "astana", None, None, "-dispute_rate", 20, 0, now, 10
                )
            assert total == programmes_n and len(items) == 20

        await search()  # warm the pool and the caches
        print(f"search page of 20 with signals: median {await timed(runs, search):.0f} ms over {runs} runs")
        print(f"region listing by dispute rate: median {await timed(max(3, runs // 4), listing):.0f} ms")
        print(machine())
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--programmes", type=int, default=2_000)
    parser.add_argument("--enrolments", type=int, default=25_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--server-url", default=os.environ.get("QOSYM_POSTGRES_URL"), help="PostgreSQL server URL")
    args = parser.parse_args()
    on_postgres(args.server_url, lambda url: run(url, args.programmes, args.enrolments, args.runs))


if __name__ == "__main__":
    main()
