"""A tamper-evident audit trail any service can keep: one table, a writer, a verifier, signed heads.

Each row carries ``mac = HMAC-SHA256(key, prev_mac || canonical JSON of the row)``; the key is held by the
service (a development key generated in the keys folder, a secret in production), never by the database, so
whoever can write the database cannot forge or re-link a row. A *head* (service, last seq, last mac, row count,
time), signed with the service's Ed25519 head key, is written periodically and on demand to a folder outside the
database (``QOSYM_AUDIT_HEAD_DIR``; production mounts an object store there) and every head is kept: verification
checks that the database still holds each head's row with the same mac, so deleting the tail or truncating the
table is detected too. Rows appended after the newest head are protected by their macs only until the next head.

The trail is ``chains`` chains (``QOSYM_AUDIT_CHAINS``, 16 by default): an aggregate (entity, entity id) always
goes to the same chain, chosen by a hash, so its rows stay in order in one chain while writers of other aggregates
append to other chains. Chain 0 is named after the service (a one-chain trail, and every row written before there
were several, is that chain); chain k is ``<service>/<k>``. Appending takes a transaction advisory lock on its chain
only, so concurrent writers never fork a chain and a transaction held open blocks only the writers of its own chain
(one in ``chains``), not the whole service; the row commits in the caller's transaction, with the change it records.
A head records every chain's last seq and mac, so a chain's deleted tail is found as before. The service's database role may only
INSERT and SELECT the table (see :mod:`qosym_chassis.roles`) and a trigger forbids UPDATE, DELETE and TRUNCATE.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    DateTime,
    Identity,
    LargeBinary,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    insert,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from qosym_chassis.clock import Clock
from qosym_chassis.keys import load_or_create_ed25519_key, load_or_create_secret

GENESIS = bytes(32)
TABLE = "audit_log"
HEAD_SCHEMA = "qosym.audit-head.v2"
HEAD_SCHEMAS = ("qosym.audit-head.v1", HEAD_SCHEMA)
INFO_KEY = "qosym_audit_trail"


def define_audit_table(metadata: MetaData) -> Table:
    return Table(
        TABLE,
        metadata,
        Column("id", BigInteger, Identity(), primary_key=True),
        Column("chain", Text, nullable=False),
        Column("seq", BigInteger, nullable=False),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        Column("actor", Text, nullable=False),
        Column("acting_for", Text),
        Column("action", Text, nullable=False),
        Column("entity", Text, nullable=False),
        Column("entity_id", Text, nullable=False),
        Column("data", JSONB, nullable=False),
        Column("prev_mac", LargeBinary, nullable=False),
        Column("mac", LargeBinary, nullable=False),
        UniqueConstraint("chain", "seq", name="uq_audit_log_chain_seq"),
    )


audit_log = define_audit_table(MetaData())

APPEND_ONLY_SQL = (
    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
    "CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log"
    " FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log"
    " FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
)


def create_audit_table(bind: Any) -> None:
    """For a service's migration: the table and its append-only triggers."""
    define_audit_table(MetaData()).create(bind)
    for statement in APPEND_ONLY_SQL:
        bind.execute(text(statement))


def drop_audit_table(bind: Any) -> None:
    bind.execute(text("DROP TABLE audit_log"))
    bind.execute(text("DROP FUNCTION IF EXISTS audit_log_append_only()"))


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


def row_mac(key: bytes, prev_mac: bytes, row: dict[str, Any]) -> bytes:
    return hmac.new(key, prev_mac + canonical(row), hashlib.sha256).digest()


# --- heads ---------------------------------------------------------------------------------------------------


Tips = dict[str, tuple[int, bytes]]
"""each chain's last (seq, mac)"""


def fingerprint(tips: Tips) -> bytes:
    """One mac standing for every chain's tip: the tip's own mac for a one-chain trail."""
    if len(tips) == 1:
        return next(iter(tips.values()))[1]
    listed = "\n".join(f"{chain}:{seq}:{mac.hex()}" for chain, (seq, mac) in sorted(tips.items()))
    return hashlib.sha256(listed.encode()).digest()


@dataclass(frozen=True)
class Head:
    """A signed head: ``last_seq`` and ``rows`` are the trail's rows over every chain, ``last_mac`` their
    :func:`fingerprint`, ``chains`` each chain's tip (a v1 head, of one chain, names the service's chain)."""

    service: str
    last_seq: int
    last_mac: bytes
    rows: int
    at: datetime
    path: Path | None = None
    chains: Tips | None = None

    @property
    def tips(self) -> Tips:
        return self.chains if self.chains is not None else {self.service: (self.last_seq, self.last_mac)}

    def payload(self) -> dict[str, Any]:
        return {
            "schema": HEAD_SCHEMA,
            "service": self.service,
            "last_seq": self.last_seq,
            "last_mac": self.last_mac.hex(),
            "rows": self.rows,
            "at": self.at.astimezone(UTC).isoformat(),
            "chains": {chain: {"last_seq": seq, "last_mac": mac.hex()} for chain, (seq, mac) in self.tips.items()},
        }


def _signed_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


class HeadStore:
    """Signed head files in ``<dir>/<service>/``, one per publication, never overwritten."""

    def __init__(self, folder: Path, service: str) -> None:
        self.folder = folder / service
        self.service = service

    def write(self, head: Head, key: Ed25519PrivateKey) -> Path:
        payload = head.payload()
        document = {"payload": payload, "signature": base64.b64encode(key.sign(_signed_bytes(payload))).decode()}
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = head.at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.folder / f"head-{head.last_seq:012d}-{stamp}.json"
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(document, indent=2))
        os.replace(temporary, path)
        return path

    def paths(self) -> list[Path]:
        return sorted(self.folder.glob("head-*.json")) if self.folder.is_dir() else []

    def read(self, public_key: Ed25519PublicKey) -> Iterator[Head | str]:
        """Each head file, verified; a string names a file that is not a valid head of this service."""
        for path in self.paths():
            try:
                document = json.loads(path.read_text())
                payload = document["payload"]
                public_key.verify(base64.b64decode(document["signature"]), _signed_bytes(payload))
                if payload.get("schema") not in HEAD_SCHEMAS or payload["service"] != self.service:
                    raise ValueError("not a head of this service")
                chains = payload.get("chains")
                yield Head(
                    service=payload["service"],
                    last_seq=int(payload["last_seq"]),
                    last_mac=bytes.fromhex(payload["last_mac"]),
                    rows=int(payload["rows"]),
                    at=datetime.fromisoformat(payload["at"]),
                    path=path,
                    chains=None
                    if chains is None
                    else {
                        str(name): (int(tip["last_seq"]), bytes.fromhex(tip["last_mac"]))
                        for name, tip in chains.items()
                    },
                )
            except InvalidSignature:
                yield f"head file {path.name} has an invalid signature"
            except (OSError, ValueError, KeyError, TypeError):
                yield f"head file {path.name} is not a readable head"

    def latest(self, public_key: Ed25519PublicKey) -> Head | None:
        heads = [h for h in self.read(public_key) if isinstance(h, Head)]
        return max(heads, key=lambda h: (h.last_seq, h.at)) if heads else None


# --- the trail -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    ok: bool
    rows: int
    first_broken_seq: int | None = None
    first_broken_id: int | None = None
    reason: str | None = None
    heads_checked: int = 0
    latest_head_seq: int | None = None
    first_broken_chain: str | None = None


@dataclass
class AuditTrail:
    """One service's chain: its MAC key, its head-signing key and its head folder (keys load on first use)."""

    service: str
    keys_dir: Path
    head_dir: Path
    mac_key_hex: str | None = None
    clock: Clock = field(default_factory=Clock)
    """when a recorded change happened (the service's clock, shifted in development like its use cases)"""
    chains: int = 16
    """how many chains new rows spread over, by aggregate (verification reads whatever chains exist)"""

    def chain_of(self, entity: str, entity_id: object) -> str:
        """The chain an aggregate's rows go to: always the same one for the same (entity, id)."""
        if self.chains <= 1:
            return self.service
        digest = hashlib.blake2b(f"{entity}\x00{entity_id}".encode(), digest_size=8).digest()
        shard = int.from_bytes(digest, "big") % self.chains
        return self.service if shard == 0 else f"{self.service}/{shard}"

    def _mine(self) -> ColumnElement[bool]:
        return or_(audit_log.c.chain == self.service, audit_log.c.chain.startswith(f"{self.service}/"))

    @cached_property
    def mac_key(self) -> bytes:
        if self.mac_key_hex:
            key = bytes.fromhex(self.mac_key_hex)
            if len(key) < 32:
                raise ValueError("the audit MAC key must be at least 32 bytes (64 hex digits)")
            return key
        return load_or_create_secret(self.keys_dir, f"audit-mac-{self.service}")

    @cached_property
    def head_key(self) -> Ed25519PrivateKey:
        return load_or_create_ed25519_key(self.keys_dir / f"audit-head-{self.service}.pem")

    @property
    def heads(self) -> HeadStore:
        return HeadStore(self.head_dir, self.service)

    async def append(
        self,
        session: AsyncSession,
        actor: Actor,
        action: str,
        entity: str,
        entity_id: object,
        data: dict[str, Any],
        *,
        now: datetime | None = None,
    ) -> int:
        """Record a change in the caller's transaction (never personal data in ``data``: ids and codes only)."""
        chain = self.chain_of(entity, entity_id)
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:chain))"), {"chain": f"audit:{chain}"})
        last = (
            await session.execute(
                select(audit_log.c.seq, audit_log.c.mac)
                .where(audit_log.c.chain == chain)
                .order_by(audit_log.c.seq.desc())
                .limit(1)
            )
        ).first()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        row = {
            "chain": chain,
            "seq": seq,
            "occurred_at": now or self.clock.now(),
            "actor": f"{actor.role}:{actor.subject}",
            "acting_for": actor.acting_for,
            "action": action,
            "entity": entity,
            "entity_id": str(entity_id),
            "data": json.loads(json.dumps(data, default=str)),
        }
        await session.execute(insert(audit_log).values(**row, prev_mac=prev, mac=row_mac(self.mac_key, prev, row)))
        return seq

    async def tips(self, session: AsyncSession) -> Tips:
        """Every chain's last (seq, mac), as this transaction sees them."""
        rows = await session.execute(
            select(audit_log.c.chain, audit_log.c.seq, audit_log.c.mac)
            .where(self._mine())
            .order_by(audit_log.c.chain, audit_log.c.seq.desc())
            .ext(distinct_on(audit_log.c.chain))
        )
        return {str(chain): (int(seq), bytes(mac)) for chain, seq, mac in rows}

    async def publish_head(self, session: AsyncSession, *, force: bool = False) -> Head | None:
        """Sign and write the trail's current head unless the newest head already says the same (or force)."""
        tips = await self.tips(session) or {self.service: (0, GENESIS)}
        rows = sum(seq for seq, _ in tips.values())
        latest = self.heads.latest(self.head_key.public_key())
        if not force and latest is not None and latest.tips == tips:
            return None
        # a head's time is when it was signed: the real clock, as the file's timestamp and the object store see it
        head = Head(
            service=self.service,
            last_seq=rows,
            last_mac=fingerprint(tips),
            rows=rows,
            at=datetime.now(UTC),
            chains=tips,
        )
        return replace(head, path=self.heads.write(head, self.head_key))

    async def entries(
        self,
        session: AsyncSession,
        *,
        entity: str | None = None,
        entity_id: str | None = None,
        before_id: int | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """This service's rows, newest first over every chain (by ``id``, the trail-wide insertion order), older
        than ``before_id`` when given (keyset paging), of one entity (and one of its ids) when given."""
        query = select(audit_log).where(self._mine())
        if entity is not None:
            query = query.where(audit_log.c.entity == entity)
        if entity_id is not None:
            query = query.where(audit_log.c.entity_id == entity_id)
        if before_id is not None:
            query = query.where(audit_log.c.id < before_id)
        rows = await session.execute(query.order_by(audit_log.c.id.desc()).limit(limit))
        return [dict(row) for row in rows.mappings()]

    async def verify(self, session: AsyncSession) -> Verification:
        """Walk each chain (order, links, macs), then check every signed head against what the database holds; the
        first broken row is named by its chain, seq and id (chains in name order, rows in seq order)."""
        heads: list[Head] = []
        for item in self.heads.read(self.head_key.public_key()):
            if isinstance(item, str):
                return Verification(False, 0, reason=item)
            heads.append(item)
        wanted = {(chain, seq) for h in heads for chain, (seq, _) in h.tips.items()}
        seen: dict[tuple[str, int], tuple[bytes, int]] = {}
        per_chain: dict[str, int] = {}
        chain: str | None = None
        expected_prev, expected_seq, count = GENESIS, 1, 0
        result = await session.stream(
            select(audit_log).where(self._mine()).order_by(audit_log.c.chain, audit_log.c.seq)
        )
        async for raw in result.mappings():
            row = dict(raw)
            if row["chain"] != chain:
                chain, expected_prev, expected_seq = row["chain"], GENESIS, 1
            count += 1
            per_chain[row["chain"]] = per_chain.get(row["chain"], 0) + 1
            problem = None
            if row["seq"] != expected_seq:
                problem = f"row seq={expected_seq} is missing (the next row is seq={row['seq']})"
            elif bytes(row["prev_mac"]) != expected_prev:
                problem = "prev_mac does not link to the previous row"
            elif not hmac.compare_digest(bytes(row["mac"]), row_mac(self.mac_key, bytes(row["prev_mac"]), row)):
                problem = "the row's mac does not match its content (edited, or not written by this service)"
            if problem:
                await result.close()
                where = "" if row["chain"] == self.service else f" (chain {row['chain']})"
                return Verification(
                    False, count, row["seq"], row["id"], problem + where, len(heads), _newest(heads), row["chain"]
                )
            if (row["chain"], row["seq"]) in wanted:
                seen[(row["chain"], row["seq"])] = (bytes(row["mac"]), row["id"])
            expected_prev, expected_seq = bytes(row["mac"]), expected_seq + 1
        for head in sorted(heads, key=lambda h: h.last_seq):
            name = head.path.name if head.path else "a head"
            for tip_chain, (seq, tip_mac) in sorted(head.tips.items()):
                if seq == 0:
                    continue
                where = "" if tip_chain == self.service else f" of chain {tip_chain}"
                if (tip_chain, seq) not in seen:
                    reason = (
                        f"rows were removed: {name} (signed {head.at.isoformat()}) records {head.rows} rows, up to"
                        f" seq={seq}{where}; the database holds {per_chain.get(tip_chain, 0)} rows of that chain"
                    )
                    return Verification(False, count, seq, None, reason, len(heads), _newest(heads), tip_chain)
                mac, row_id = seen[(tip_chain, seq)]
                if not hmac.compare_digest(mac, tip_mac):
                    reason = f"row seq={seq}{where} differs from {name} (signed {head.at.isoformat()})"
                    return Verification(False, count, seq, row_id, reason, len(heads), _newest(heads), tip_chain)
        return Verification(True, count, heads_checked=len(heads), latest_head_seq=_newest(heads))


def _newest(heads: list[Head]) -> int | None:
    return max((h.last_seq for h in heads), default=None)


def trail_of(session: AsyncSession) -> AuditTrail:
    trail = session.info.get(INFO_KEY)
    if not isinstance(trail, AuditTrail):
        raise RuntimeError("this session has no audit trail (set audit_trail in the service's settings)")
    return trail


async def append(
    session: AsyncSession, actor: Actor, action: str, entity: str, entity_id: object, data: dict[str, Any]
) -> int:
    """Append to the trail of the service whose session factory made ``session`` (ServiceContext sets it)."""
    return await trail_of(session).append(session, actor, action, entity, entity_id, data)


def trail_from_settings(settings: Any) -> AuditTrail:
    """The trail of the service the settings describe (ServiceSettings: keys_dir, audit_head_dir, audit_mac_key)."""
    secret = settings.audit_mac_key.get_secret_value() if settings.audit_mac_key else None
    return AuditTrail(
        service=settings.service_name,
        keys_dir=settings.keys_dir,
        head_dir=settings.audit_head_dir,
        mac_key_hex=secret,
        clock=Clock.from_settings(settings),
        chains=int(getattr(settings, "audit_chains", 16)),
    )
