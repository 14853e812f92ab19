"""Append-only, hash-chained audit trail.

row_hash = sha256(prev_hash || canonical JSON of the row); the first row of a chain links to 32 zero bytes.
Appending takes a per-chain transaction advisory lock so concurrent writers never fork the chain; the
row commits in the caller's transaction, with the change it records. A trigger forbids UPDATE and DELETE.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from registry.adapters.orm import audit_log

GENESIS = bytes(32)
CHAIN = "registry"


@dataclass(frozen=True)
class Actor:
    subject: str
    role: str
    acting_for: str | None = None


def canonical(row: dict[str, Any]) -> bytes:
    fields = {
        "chain": row["chain"],
        "seq": row["seq"],
        "occurred_at": row["occurred_at"].astimezone(UTC).isoformat(),
        "actor": row["actor"],
        "acting_for": row["acting_for"],
        "action": row["action"],
        "entity": row["entity"],
        "entity_id": row["entity_id"],
        "data": row["data"],
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def row_hash(prev_hash: bytes, row: dict[str, Any]) -> bytes:
    return hashlib.sha256(prev_hash + canonical(row)).digest()


async def append(
    session: AsyncSession, actor: Actor, action: str, entity: str, entity_id: object, data: dict[str, Any]
) -> None:
    """Record a change in the caller's transaction (never personal data in ``data``: ids and codes only)."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:chain))"), {"chain": CHAIN})
    last = (
        await session.execute(
            select(audit_log.c.seq, audit_log.c.row_hash)
            .where(audit_log.c.chain == CHAIN)
            .order_by(audit_log.c.seq.desc())
            .limit(1)
        )
    ).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    row = {
        "chain": CHAIN,
        "seq": seq,
        "occurred_at": datetime.now(UTC),
        "actor": f"{actor.role}:{actor.subject}",
        "acting_for": actor.acting_for,
        "action": action,
        "entity": entity,
        "entity_id": str(entity_id),
        "data": json.loads(json.dumps(data, default=str)),
    }
    await session.execute(insert(audit_log).values(**row, prev_hash=prev, row_hash=row_hash(prev, row)))


@dataclass(frozen=True)
class Verification:
    ok: bool
    rows: int
    first_broken_seq: int | None = None
    first_broken_id: int | None = None
    reason: str | None = None


async def verify(session: AsyncSession, chain: str = CHAIN) -> Verification:
    """Walk the chain in order; report the first row whose link or hash does not match."""
    expected_prev, expected_seq, count = GENESIS, 1, 0
    result = await session.stream(select(audit_log).where(audit_log.c.chain == chain).order_by(audit_log.c.seq))
    async for raw in result.mappings():
        row = dict(raw)
        count += 1
        problem = None
        if row["seq"] != expected_seq:
            problem = "a row is missing before this one"
        elif row["prev_hash"] != expected_prev:
            problem = "prev_hash does not link to the previous row"
        elif row["row_hash"] != row_hash(row["prev_hash"], row):
            problem = "row_hash does not match the row's content"
        if problem:
            return Verification(False, count, row["seq"], row["id"], problem)
        expected_prev, expected_seq = row["row_hash"], expected_seq + 1
    return Verification(True, count)


async def count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(audit_log))).scalar_one())
