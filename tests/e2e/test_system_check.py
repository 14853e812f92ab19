"""`qosym check` on the running stack (docs/reliability.md, "The checker"): a clean lifecycle has no finding, and a
break in a database is found and named, then gone once repaired."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from qosym_cli.stack import LocalStack
from tests.support.journeys import award_vouchers, new_family
from tests.support.stack_ops import db_value, drained

pytestmark = pytest.mark.e2e


def qosym_check(stack: LocalStack, since: datetime) -> tuple[int, list[dict[str, Any]]]:
    command = ["check", "--json", "--since", since.isoformat(), "--home", str(stack.home)]
    done = subprocess.run(
        [sys.executable, "-m", "qosym_cli.main", *command],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)["findings"]


def as_owner(stack: LocalStack, service: str, sql: str, *args: Any) -> str:
    async def run() -> str:
        conn = await asyncpg.connect(stack.state.migration_urls[service].replace("+asyncpg", ""))
        try:
            return str(await conn.execute(sql, *args))
        finally:
            await conn.close()

    return asyncio.run(run())


def test_the_checker_finds_nothing_after_a_lifecycle_and_names_a_lost_event_and_a_stale_projection(
    running_stack, token
):
    drained(running_stack)
    since = datetime.now(UTC)
    _, before = qosym_check(running_stack, since)  # what earlier tests on this shared stack left behind, if any
    family = new_family(running_stack, token, children=2)
    award_vouchers(running_stack, token, [family])
    drained(running_stack)
    code, after = qosym_check(running_stack, since)
    assert after == before, after
    if not before:  # a stack no earlier test broke on purpose
        assert code == 0

    voucher_id = family.children[0].voucher_id
    awarded = db_value(
        running_stack,
        "allocation",
        "select event_id::text from outbox where event_type = 'allocation.VoucherAwarded' and payload->>'voucher_id' = $1",
        voucher_id,
    )
    assert awarded
    received = db_value(running_stack, "payments", "select received_at from inbox where event_id = $1::uuid", awarded)
    assert as_owner(running_stack, "payments", "delete from inbox where event_id = $1::uuid", awarded) == "DELETE 1"
    child, guardian = family.children[1].id, family.parent_id
    stale = "update guardian set active = $3 where child_id = $1::uuid and guardian_id = $2::uuid"
    assert as_owner(running_stack, "notifications", stale, child, guardian, False) == "UPDATE 1"
    try:
        code, broken = qosym_check(running_stack, since)
        new = [f for f in broken if f not in before]
        assert code == 1
        assert {(f["kind"], f["subject"]) for f in new} == {
            ("lost", awarded),
            ("projection-missing", f"{child} {guardian}"),
        }, new
        assert any("payments" in f["detail"] for f in new if f["kind"] == "lost")
    finally:
        as_owner(
            running_stack,
            "payments",
            "insert into inbox (consumer, event_id, topic, received_at) values ('payments', $1::uuid, $2, $3)",
            awarded,
            "allocation.voucher.v1",
            received,
        )
        as_owner(running_stack, "notifications", stale, child, guardian, True)
    code, repaired = qosym_check(running_stack, since)
    assert repaired == before
