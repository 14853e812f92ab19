"""Migration 0006 moves what earlier allocations wrote into the application rows into the results tables (and back
on a downgrade), so a round allocated before it reads the same afterwards."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from urllib.parse import urlsplit

import asyncpg
import pytest

from qosym_chassis.cli import migrations_dir
from qosym_chassis.migrations import downgrade, upgrade

pytestmark = pytest.mark.component

ROUND, CHILDREN = uuid.uuid4(), [uuid.uuid4() for _ in range(4)]
APPS = [uuid.uuid4() for _ in range(4)]
LOTTERY = [hashlib.sha256(bytes([n])).digest() for n in range(4)]
# (application, child, status, score, lottery, rank, outcome, via, position): awarded; waitlisted then re-offered
# (awarded, with a voucher); waitlisted; withdrawn (never ranked)
ROWS = [
    (APPS[0], CHILDREN[0], "awarded", 120, LOTTERY[0], 1, "awarded", "quota", None),
    (APPS[1], CHILDREN[1], "awarded", 0, LOTTERY[1], 2, "waitlisted", None, 1),
    (APPS[2], CHILDREN[2], "waitlisted", 0, LOTTERY[2], 3, "waitlisted", None, 2),
    (APPS[3], CHILDREN[3], "withdrawn", None, None, None, None, None, None),
]


async def seed_before_0006(conn: asyncpg.Connection) -> None:
    await conn.execute("INSERT INTO region (code, revision, config, updated_by) VALUES ('astana', 1, '{}', 'test')")
    await conn.execute(
        """INSERT INTO round (round_id, region_code, name, state, budget_tiyn, application_opens_at,
               application_closes_at, reference_date, voucher_valid_until, assignment_deadline_days,
               release_grace_days, policy, seed, seed_sha256, created_by, allocated_at)
           VALUES ($1, 'astana', 'old', 'allocated', 100000000, now() - interval '2 days', now() - interval '1 day',
                   '2026-09-01', '2027-06-30', 30, 14, $2::jsonb, $3, 'x', 'test', now())""",
        ROUND,
        json.dumps({"weights": {"orphan": 120, "disability": 100}}),
        bytes(32),
    )
    for a, c, status, score, lottery, rank, outcome, via, position in ROWS:
        await conn.execute(
            """INSERT INTO application (application_id, public_id, round_id, child_id, guardian_id, district_code,
                   direction, status, score, lottery, rank, allocated_outcome, allocated_via, waitlist_position)
               VALUES ($1, gen_random_uuid(), $2, $3, gen_random_uuid(), 'yesil', 'sports', $4, $5, $6, $7, $8, $9,
                       $10)""",
            a,
            ROUND,
            c,
            status,
            score,
            lottery,
            rank,
            outcome,
            via,
            position,
        )
    for a, c in ((APPS[0], CHILDREN[0]), (APPS[1], CHILDREN[1])):
        await conn.execute(
            """INSERT INTO voucher (voucher_id, round_id, application_id, child_id, region_code, district_code,
                   direction, via, monthly_value_tiyn, months, cost_tiyn, valid_until, assign_by)
               VALUES (gen_random_uuid(), $1, $2, $3, 'astana', 'yesil', 'sports', 'quota', 1500000, 9, 13500000,
                       '2027-06-30', '2026-10-01')""",
            ROUND,
            a,
            c,
        )
    await conn.execute(
        """INSERT INTO child_category (child_id, code, valid_from, valid_until) VALUES
           ($1, 'orphan', '2020-01-01', NULL), ($1, 'not_weighed', '2020-01-01', NULL),
           ($2, 'disability', '2020-01-01', '2021-01-01')""",
        CHILDREN[0],
        CHILDREN[1],
    )


async def test_0006_moves_allocated_results_out_of_the_application_rows_and_back(stack_servers) -> None:
    server = stack_servers.state.postgres_server_url
    name = f"migrate_allocation_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(server)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = urlsplit(server)._replace(path=f"/{name}").geturl()
    folder = migrations_dir("allocation")
    try:
        await asyncio.to_thread(upgrade, folder, url, "0005")
        conn = await asyncpg.connect(url)
        try:
            await seed_before_0006(conn)
        finally:
            await conn.close()
        await asyncio.to_thread(upgrade, folder, url)
        conn = await asyncpg.connect(url)
        try:
            results = await conn.fetch(
                """SELECT application_id, child_id, score, score_breakdown::text, lottery, rank, outcome, via,
                          waitlist_position, run.round_id, run.run_no
                   FROM allocation_result JOIN allocation_run run USING (run_id) ORDER BY rank"""
            )
            assert [tuple(r) for r in results] == [
                (APPS[0], CHILDREN[0], 120, '[["not_weighed", 0], ["orphan", 120]]', LOTTERY[0], 1, "awarded", "quota",
                 None, ROUND, 1),
                (APPS[1], CHILDREN[1], 0, "[]", LOTTERY[1], 2, "waitlisted", None, 1, ROUND, 1),
                (APPS[2], CHILDREN[2], 0, "[]", LOTTERY[2], 3, "waitlisted", None, 2, ROUND, 1),
            ]  # fmt: skip
            assert [
                tuple(r) for r in await conn.fetch("SELECT district_code, direction, rank FROM allocation_cutoff")
            ] == [("yesil", "sports", 1)]
            statuses = await conn.fetch(
                "SELECT a.status, o.status, o.rank FROM application a JOIN application_outcome o USING (application_id)"
                " ORDER BY o.rank NULLS LAST"
            )
            assert [tuple(r) for r in statuses] == [
                ("submitted", "awarded", 1),
                ("submitted", "awarded", 2),
                ("submitted", "waitlisted", 3),
                ("withdrawn", "withdrawn", None),
            ]
            columns = {
                r[0]
                for r in await conn.fetch(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = 'application'"
                )
            }
            assert not columns & {"score", "lottery", "rank", "allocated_outcome", "allocated_via", "waitlist_position"}
        finally:
            await conn.close()
        await asyncio.to_thread(downgrade, folder, url, "0005")
        conn = await asyncpg.connect(url)
        try:
            back = await conn.fetch(
                """SELECT application_id, child_id, status, score, lottery, rank, allocated_outcome, allocated_via,
                          waitlist_position FROM application ORDER BY rank NULLS LAST"""
            )
            assert [tuple(r) for r in back] == ROWS
        finally:
            await conn.close()
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()
