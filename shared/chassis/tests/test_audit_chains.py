"""The audit trail spread over chains by aggregate: a transaction held open blocks only the writers of its own
chain (not the whole service), concurrent writers never fork a chain, and tampering with any chain is found and
named (chain, seq, id), a chain's deleted tail too."""

from __future__ import annotations

import asyncio
from itertools import count

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from qosym_chassis.audit import Actor, AuditTrail, audit_log, create_audit_table

pytestmark = pytest.mark.component
ADMIN = Actor("admin-1", "administrator")


@pytest.fixture
async def trail(engine: AsyncEngine, tmp_path) -> AuditTrail:
    async with engine.begin() as conn:
        await conn.run_sync(create_audit_table)
    return AuditTrail(service="chassis-test", keys_dir=tmp_path / "keys", head_dir=tmp_path / "heads", chains=16)


def ids_in(trail: AuditTrail, *, same_as: str | None = None, other_than: str | None = None) -> str:
    """An entity id whose chain is (or is not) the chain of another id."""
    for n in count():
        candidate = f"e-{n}"
        chain = trail.chain_of("thing", candidate)
        if same_as is not None and candidate != same_as and chain == trail.chain_of("thing", same_as):
            return candidate
        if other_than is not None and chain != trail.chain_of("thing", other_than):
            return candidate
    raise AssertionError("unreachable")


async def append(engine: AsyncEngine, trail: AuditTrail, entity_id: str, action: str = "thing.done") -> int:
    async with AsyncSession(engine) as session, session.begin():
        return await trail.append(session, ADMIN, action, "thing", entity_id, {"n": 1})


async def waiting_on_a_lock(engine: AsyncEngine, application_name: str) -> bool:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND application_name = :name"
            ),
            {"name": application_name},
        )
        return bool(rows.scalar_one())


async def test_a_held_transaction_blocks_only_its_own_chain(engine, trail, stack_servers) -> None:
    held_id = "e-held"
    other_id = ids_in(trail, other_than=held_id)
    same_chain_id = ids_in(trail, same_as=held_id)
    async with AsyncSession(engine) as held, held.begin():
        await trail.append(held, ADMIN, "thing.done", "thing", held_id, {})  # its chain stays locked until commit
        other = asyncio.create_task(append(engine, trail, other_id))
        done, _ = await asyncio.wait({other}, timeout=120)  # a hang guard: it completes while the holder is open
        assert other in done and other.result() == 1

        from qosym_chassis.db import make_engine

        url = engine.url.render_as_string(hide_password=False)
        waiting_engine = make_engine(url, application_name="audit-same-chain")
        try:
            same = asyncio.create_task(append(waiting_engine, trail, same_chain_id))
            while not await waiting_on_a_lock(engine, "audit-same-chain"):
                assert not same.done(), same  # it may only finish once the holder commits
                await asyncio.sleep(0.05)
        except BaseException:
            await waiting_engine.dispose()
            raise
    try:
        assert await same == 2  # after the holder's row, in the same chain
    finally:
        await waiting_engine.dispose()
    async with AsyncSession(engine) as session:
        verdict = await trail.verify(session)
    assert verdict.ok and verdict.rows == 3


async def test_concurrent_writers_never_fork_a_chain_and_each_aggregate_stays_in_one(engine, trail) -> None:
    aggregates = [f"agg-{n}" for n in range(8)]
    await asyncio.gather(*(append(engine, trail, aggregates[n % 8], f"step.{n // 8}") for n in range(48)))
    async with AsyncSession(engine) as session:
        verdict = await trail.verify(session)
        rows = (await session.execute(select(audit_log.c.chain, audit_log.c.seq, audit_log.c.entity_id))).all()
    assert verdict.ok and verdict.rows == 48
    chains = {r.entity_id: {c.chain for c in rows if c.entity_id == r.entity_id} for r in rows}
    assert all(len(found) == 1 for found in chains.values()), chains
    assert len({r.chain for r in rows}) > 1  # eight aggregates over sixteen chains: more than one chain in use
    for chain in {r.chain for r in rows}:
        assert sorted(r.seq for r in rows if r.chain == chain) == list(
            range(1, 1 + sum(r.chain == chain for r in rows))
        )


async def tamper(engine: AsyncEngine, *statements: str) -> None:
    async with engine.begin() as conn:  # the test's engine is the server's superuser: it may switch triggers off
        await conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        for statement in statements:
            await conn.execute(text(statement))
        await conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))


async def test_an_edited_row_in_any_chain_is_named_by_chain_seq_and_id(engine, trail) -> None:
    for n in range(30):
        await append(engine, trail, f"agg-{n % 6}", f"step.{n}")
    async with engine.connect() as conn:
        victim = (
            await conn.execute(
                text(
                    "SELECT id, chain, seq FROM audit_log WHERE chain <> 'chassis-test' AND seq = 2 ORDER BY chain LIMIT 1"
                )
            )
        ).one()
    await tamper(engine, f"UPDATE audit_log SET action = 'forged' WHERE id = {victim.id}")
    async with AsyncSession(engine) as session:
        verdict = await trail.verify(session)
    assert not verdict.ok
    assert (verdict.first_broken_chain, verdict.first_broken_seq, verdict.first_broken_id) == (
        victim.chain,
        2,
        victim.id,
    )
    assert "mac" in (verdict.reason or "") and victim.chain in (verdict.reason or "")


async def test_a_chains_deleted_tail_is_found_by_the_signed_head(engine, trail) -> None:
    for n in range(30):
        await append(engine, trail, f"agg-{n % 6}", f"step.{n}")
    async with AsyncSession(engine) as session:
        head = await trail.publish_head(session)
        assert head is not None and head.rows == 30 and len(head.tips) > 1
        assert await trail.publish_head(session) is None  # nothing new: no second head
        victim_chain, (last_seq, _) = max(head.tips.items(), key=lambda tip: tip[1][0])
    await tamper(engine, f"DELETE FROM audit_log WHERE chain = '{victim_chain}' AND seq = {last_seq}")
    async with AsyncSession(engine) as session:
        verdict = await trail.verify(session)
    assert not verdict.ok and verdict.heads_checked == 1
    assert (verdict.first_broken_chain, verdict.first_broken_seq) == (victim_chain, last_seq)
    assert "rows were removed" in (verdict.reason or "") and f"holds {last_seq - 1} rows of that chain" in (
        verdict.reason or ""
    )


async def test_a_one_chain_trail_continues_the_services_chain(engine, trail, tmp_path) -> None:
    single = AuditTrail(service="chassis-test", keys_dir=tmp_path / "keys", head_dir=tmp_path / "heads", chains=1)
    await append(engine, single, "a")
    await append(engine, single, "b")
    await append(engine, trail, "c")  # a trail of sixteen chains reads and extends what one chain wrote
    async with AsyncSession(engine) as session:
        verdict = await trail.verify(session)
        chains = set((await session.execute(select(audit_log.c.chain))).scalars())
    assert verdict.ok and verdict.rows == 3
    assert "chassis-test" in chains and single.chain_of("thing", "anything") == "chassis-test"
