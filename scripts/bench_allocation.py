"""Benchmark allocation's ranking + award on a synthetic round of N applications.

Creates a fresh database (on --server-url, or on a throwaway embedded PostgreSQL), migrates it, adds
the Astana demo region, a round with quotas for 6 districts × 3 directions, N applications inserted
directly in SQL (not through the API; no child projection rows) of which about a quarter carry one priority
category, closes the round, then times the decision alone (read-only) and the allocate use case (score +
lottery + rank + two award passes + waitlist + outbox events, one transaction). In the same run, the baseline:
a raw COPY (asyncpg ``copy_records_to_table``) of N rows shaped like a ranking result (application, round, cell,
score, lottery number, rank, outcome, via, waitlist position; built beforehand) into a scratch table without
indexes, so the ratio allocate ÷ COPY holds on a noisy machine. ``--json`` prints one JSON object per line (name,
n, seconds, rate, baseline, ratio, load).

    uv run python scripts/bench_allocation.py --count 500000
    uv run python scripts/bench_allocation.py --count 500000 --server-url postgresql://postgres@127.0.0.1:5432
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import yaml
from benchdb import machine, on_postgres, scratch_database
from sqlalchemy import text

from allocation.adapters import award_repository, round_repository
from allocation.domain.region import RegionConfig
from allocation.domain.rounds import RoundDraft
from allocation.service_layer import allocation_run, regions, rounds
from allocation.service_layer.dependencies import Dependencies
from qosym_chassis.clock import Clock
from qosym_chassis.db import make_engine, make_session_factory

ROOT = Path(__file__).resolve().parents[1]
DISTRICTS = ["almaty", "baikonur", "yesil", "saryarka", "nura", "saraishyk"]
DIRECTIONS = ["sports", "creativity", "intellectual"]


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


async def raw_copy(url: str, count: int) -> float:
    """The baseline: COPY N result-shaped rows (built before the clock starts) into a scratch table."""
    round_id = uuid.uuid4()
    records = [
        (
            uuid.uuid4(),
            round_id,
            DISTRICTS[n % 6],
            DIRECTIONS[(n // 6) % 3],
            n % 7,
            secrets.token_bytes(32),
            n + 1,
            "waitlisted",
            None,
            n // 18 + 1,
        )
        for n in range(count)
    ]
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            """CREATE TABLE bench_raw_copy (application_id uuid, round_id uuid, district_code text, direction text,
               score integer, lottery bytea, rank integer, outcome text, via text, waitlist_position integer)"""
        )
        started = time.perf_counter()
        await conn.copy_records_to_table("bench_raw_copy", records=records)
        seconds = time.perf_counter() - started
        await conn.execute("DROP TABLE bench_raw_copy")
    finally:
        await conn.close()
    return seconds


async def run(server_url: str, count: int, vouchers: int, as_json: bool) -> None:
    load_before = load()
    async with scratch_database(server_url, "allocation") as url:
        engine = make_engine(url, application_name="bench")
        sessions = make_session_factory(engine)
        deps = Dependencies(sessions=sessions, clock=Clock())
        region = RegionConfig.model_validate(yaml.safe_load((ROOT / "deploy/regions/astana.yaml").read_text()))
        await regions.apply_region(deps, region.code, region, actor="bench")
        per_cell = max(1, vouchers // (len(DISTRICTS) * len(DIRECTIONS)))
        now = datetime.now(UTC)
        draft = RoundDraft(
            region_code="astana",
            name="benchmark",
            budget_tiyn=region.budget_tiyn,
            quotas={d: {x: per_cell for x in DIRECTIONS} for d in DISTRICTS},
            application_opens_at=now - timedelta(hours=1),
            application_closes_at=now + timedelta(hours=1),
            reference_date=date(2026, 9, 1),
            voucher_valid_until=date(2027, 6, 30),
        )
        created = await rounds.create_round(deps, draft, "bench")
        await rounds.open_round(deps, created.round_id)
        conn = await asyncpg.connect(url)
        started = time.perf_counter()
        await conn.execute(
            """
            INSERT INTO application (application_id, public_id, round_id, child_id, guardian_id, district_code, direction)
            SELECT gen_random_uuid(), gen_random_uuid(), $1, gen_random_uuid(), gen_random_uuid(),
                   ($2::text[])[1 + (n % 6)], ($3::text[])[1 + ((n / 6) % 3)]
            FROM generate_series(1, $4) AS n
            """,
            created.round_id,
            DISTRICTS,
            DIRECTIONS,
            count,
        )
        await conn.execute(
            """
            INSERT INTO child_category (child_id, code, valid_from, valid_until)
            SELECT child_id, (ARRAY['orphan','disability','large_family','low_income','single_parent'])[1 + (abs(hashtext(child_id::text)) % 5)],
                   '2020-01-01', NULL
            FROM application WHERE abs(hashtext(child_id::text)) % 4 = 0
            """
        )
        await conn.execute("ANALYZE")
        await conn.close()
        print(f"synthetic data: {count} applications in {time.perf_counter() - started:.1f} s")
        await rounds.close_round(deps, created.round_id, "bench", rounds.EarlyClose("schedule_change"))
        decision = award_repository.DECISION + " SELECT count(*) FILTER (WHERE via IS NOT NULL) FROM final"
        async with sessions() as session, session.begin():
            closed = await round_repository.get_round(session, created.round_id)
            assert closed is not None
            started = time.perf_counter()
            await session.execute(text("SET LOCAL work_mem = '256MB'"))
            params: dict[str, Any] = {
                "r": closed.round_id,
                "weights": json.dumps(closed.policy.weights),
                "ref": closed.reference_date,
                "seed": closed.seed,
                "budget_left": closed.budget_tiyn,
                "cap_left": closed.voucher_count,
            }
            names: list[str] = []

            def number(match: re.Match[str]) -> str:
                if match.group(1) not in names:
                    names.append(match.group(1))
                return f"${names.index(match.group(1)) + 1}"

            positional = re.sub(r"(?<![:\w]):([a-z_]+)\b", number, decision)
            driver: Any = (await (await session.connection()).get_raw_connection()).driver_connection
            awarded = await driver.fetchval(positional, *(params[n] for n in names), timeout=900)
            print(
                f"decide only (score + lottery + rank + both award passes, read-only): {time.perf_counter() - started:.2f} s, {awarded} awards"
            )
        baseline_s = await raw_copy(url, count)
        started = time.perf_counter()
        result = await allocation_run.allocate_round(deps, created.round_id)
        elapsed = time.perf_counter() - started
        async with sessions() as session:
            staged = (await session.execute(text("SELECT count(*) FROM outbox"))).scalar_one()
            awarded_rows = (await session.execute(text("SELECT count(*) FROM voucher"))).scalar_one()
        assert result.awarded + result.waitlisted == count, "an application was neither awarded nor waitlisted"
        assert awarded_rows == result.awarded, "vouchers and the summary disagree"
        print(f"allocate (rank + award + waitlist + {staged} outbox rows, one transaction): {elapsed:.2f} s")
        print(f"result: {result}")
        print(machine())
        print(f"load average {load_before} before, {load()} after")
        rows: list[dict[str, Any]] = [
            {"name": "raw COPY", "n": count, "seconds": baseline_s, "rate": count / baseline_s, "ratio": 1.0},
            {
                "name": "allocate",
                "n": count,
                "seconds": elapsed,
                "rate": count / elapsed,
                "ratio": elapsed / baseline_s,
            },
        ]
        if as_json:
            for r in rows:
                print(json.dumps({**r, "baseline": count / baseline_s, "outbox_rows": staged, "load": load_before}))
        else:
            print(f"{'':<12}{'seconds':>10}{'rows/s':>12}{'× COPY':>8}")
            for r in rows:
                print(f"{r['name']:<12}{r['seconds']:>10.2f}{r['rate']:>12,.0f}{r['ratio']:>8.1f}")
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000, help="applications in the round")
    parser.add_argument("--vouchers", type=int, default=25_000, help="vouchers over all quotas")
    parser.add_argument("--server-url", default=os.environ.get("QOSYM_POSTGRES_URL"), help="PostgreSQL server URL")
    parser.add_argument("--json", action="store_true", help="one JSON object per result line")
    args = parser.parse_args()
    on_postgres(args.server_url, lambda url: run(url, args.count, args.vouchers, args.json))


if __name__ == "__main__":
    main()
