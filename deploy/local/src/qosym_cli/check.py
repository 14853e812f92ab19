"""``qosym check``: the whole system compared with itself after quiescence (docs/reliability.md, "The checker").

It reads every service's database with the credentials the local stack keeps (the app roles' URLs in stack.json) and
calls payments' reconciliation (``GET /v1/reconciliation``: ledger conservation, no overdraft, every awarded voucher
funded exactly once, every confirmed or resolved month accrued exactly once at the rule's amount) with an auditor
token, then adds what no single service can see:

- delivery: every outbox event of a type a service subscribes to (the subscriptions are read from
  docs/asyncapi/<service>.json) is in that subscriber's inbox exactly once; none lost, none dead-lettered, none
  consumed that was never produced or not subscribed to, none left unpublished;
- quotas and budgets: a round's live vouchers per direction and per district quota within their quotas, their cost
  within the round's budget; catalog's confirmed enrolments per programme within its capacity;
- projections equal their sources: regions (allocation -> registry, catalog, attendance), programmes (catalog ->
  attendance), children (registry -> catalog), active guardianships (registry -> catalog, attendance,
  notifications).

The rules are pure functions over plain rows (unit-tested in tests/component/test_system_check_rules.py); the reading
is in ``snapshot``.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from qosym_cli.paths import SERVICES

LIVE_VOUCHER = ("awarded", "assigned")


@dataclass(frozen=True, order=True)
class Finding:
    kind: str
    subject: str
    detail: str

    def line(self) -> str:
        return f"{self.kind} {self.subject}: {self.detail}"


@dataclass(frozen=True)
class OutboxRow:
    event_id: str
    event_type: str
    topic: str
    created_at: datetime
    published: bool


@dataclass(frozen=True)
class InboxRow:
    event_id: str
    topic: str
    received_at: datetime


Kind = tuple[str, str]  # (topic, event_type)


# --- rules -------------------------------------------------------------------------------------------------------


def subscriptions(documents: Mapping[str, Mapping[str, Any]]) -> dict[str, set[Kind]]:
    """Each service's subscriptions, from its AsyncAPI document: the ``receive`` operations, named
    ``<service>:<topic>:<Schema>``, each with the ``event_type`` its schema fixes (what the outbox records)."""
    found: dict[str, set[Kind]] = {}
    for service, document in documents.items():
        schemas = document.get("components", {}).get("schemas", {})
        kinds: set[Kind] = set()
        for name, operation in document.get("operations", {}).items():
            if operation.get("action") != "receive":
                continue
            _, topic, schema = name.split(":", 2)
            event_type = schemas.get(schema, {}).get("properties", {}).get("event_type", {}).get("const", schema)
            kinds.add((topic, event_type))
        found[service] = kinds
    return found


def delivery_findings(
    outboxes: Mapping[str, Iterable[OutboxRow]],
    inboxes: Mapping[str, Iterable[InboxRow]],
    dead_lettered: Mapping[str, set[str]],
    subscribed: Mapping[str, set[Kind]],
    since: datetime | None = None,
) -> list[Finding]:
    """Every produced event of a subscribed kind consumed once by each subscriber, nothing consumed that was not
    produced for it. The inbox records applied events only (an event type a consumer has no handler for is ignored
    and leaves no row), so only subscribed kinds are compared. Outbox rows are pruned after the replay window: an
    inbox row older than the oldest outbox row left on its topic is not judged. ``since`` limits the comparison to
    events produced (and rows received) from then on."""
    findings: list[Finding] = []
    produced: dict[str, tuple[str, OutboxRow]] = {}
    oldest: dict[str, datetime] = {}
    for producer, rows in outboxes.items():
        for row in rows:
            produced[row.event_id] = (producer, row)
            if row.topic not in oldest or row.created_at < oldest[row.topic]:
                oldest[row.topic] = row.created_at
            if not row.published and (since is None or row.created_at >= since):
                findings.append(
                    Finding("unpublished", row.event_id, f"{producer} {row.topic} {row.event_type} still in the outbox")
                )
    for consumer in sorted(subscribed):
        kinds = subscribed[consumer]
        seen = Counter(row.event_id for row in inboxes.get(consumer, ()))
        for event_id, count in seen.items():
            if count > 1:
                findings.append(Finding("duplicated", event_id, f"{consumer} consumed it {count} times"))
        for event_id, (producer, row) in sorted(produced.items()):
            if (row.topic, row.event_type) not in kinds or (since is not None and row.created_at < since):
                continue
            if event_id in seen:
                continue
            if event_id in dead_lettered.get(consumer, set()):
                findings.append(
                    Finding("dead-lettered", event_id, f"{producer} {row.event_type} dead-lettered by {consumer}")
                )
            else:
                findings.append(Finding("lost", event_id, f"{producer} {row.event_type} never consumed by {consumer}"))
        for got in inboxes.get(consumer, ()):
            if since is not None and got.received_at < since:
                continue
            source = produced.get(got.event_id)
            if source is None:
                if got.topic in oldest and got.received_at >= oldest[got.topic]:
                    findings.append(
                        Finding(
                            "unexpected", got.event_id, f"{consumer} consumed an event no outbox holds ({got.topic})"
                        )
                    )
                continue
            producer, out = source
            if (out.topic, out.event_type) not in kinds:
                findings.append(
                    Finding("unexpected", got.event_id, f"{consumer} consumed {producer} {out.event_type} unsubscribed")
                )
    return findings


@dataclass(frozen=True)
class Voucher:
    round_id: str
    district_code: str
    direction: str
    via: str
    cost_tiyn: int
    status: str


def quota_findings(
    vouchers: Iterable[Voucher],
    direction_quotas: Mapping[tuple[str, str], int],
    district_quotas: Mapping[tuple[str, str, str], int],
    budgets: Mapping[str, int],
) -> list[Finding]:
    """A round's live vouchers (awarded or assigned) within each direction's quota, the quota-awarded ones within
    each district's quota, and their cost within the round's budget."""
    live = [v for v in vouchers if v.status in LIVE_VOUCHER]
    per_direction = Counter((v.round_id, v.direction) for v in live)
    per_district = Counter((v.round_id, v.district_code, v.direction) for v in live if v.via == "quota")
    cost: dict[str, int] = defaultdict(int)
    for v in live:
        cost[v.round_id] += v.cost_tiyn
    findings = [
        Finding("over-quota", f"{r} {d}", f"{n} live vouchers, quota {direction_quotas.get((r, d), 0)}")
        for (r, d), n in sorted(per_direction.items())
        if n > direction_quotas.get((r, d), 0)
    ]
    findings += [
        Finding(
            "over-quota", f"{r} {district} {d}", f"{n} quota vouchers, quota {district_quotas.get((r, district, d), 0)}"
        )
        for (r, district, d), n in sorted(per_district.items())
        if n > district_quotas.get((r, district, d), 0)
    ]
    findings += [
        Finding("over-budget", r, f"live vouchers cost {spent} tiyn, budget {budgets.get(r, 0)}")
        for r, spent in sorted(cost.items())
        if spent > budgets.get(r, 0)
    ]
    return findings


def capacity_findings(capacities: Mapping[str, int], confirmed: Mapping[str, int]) -> list[Finding]:
    """Confirmed enrolments per programme within its capacity."""
    return [
        Finding("over-capacity", programme, f"{n} confirmed enrolments, capacity {capacities.get(programme, 0)}")
        for programme, n in sorted(confirmed.items())
        if n > capacities.get(programme, 0)
    ]


def projection_findings(name: str, source: Mapping[Any, Any], projection: Mapping[Any, Any]) -> list[Finding]:
    """A projection holds exactly its source's keys, each with the source's values."""
    findings: list[Finding] = []
    for key in sorted(set(source) | set(projection), key=str):
        subject = " ".join(str(k) for k in key) if isinstance(key, tuple) else str(key)
        if key not in projection:
            findings.append(Finding("projection-missing", subject, f"{name}: in the source, not in the projection"))
        elif key not in source:
            findings.append(Finding("projection-extra", subject, f"{name}: in the projection, not in the source"))
        elif source[key] != projection[key]:
            findings.append(
                Finding(
                    "projection-differs", subject, f"{name}: source {source[key]!r}, projection {projection[key]!r}"
                )
            )
    return findings


def reconciliation_findings(report: Mapping[str, Any]) -> list[Finding]:
    """Payments' reconciliation findings, each as a finding of its check."""
    return [Finding(f["check"], str(f["subject"]), str(f["detail"])) for f in report.get("findings", [])]


# --- reading -------------------------------------------------------------------------------------------------------


@dataclass
class Snapshot:
    outboxes: dict[str, list[OutboxRow]] = field(default_factory=dict)
    inboxes: dict[str, list[InboxRow]] = field(default_factory=dict)
    dead_lettered: dict[str, set[str]] = field(default_factory=dict)
    vouchers: list[Voucher] = field(default_factory=list)
    direction_quotas: dict[tuple[str, str], int] = field(default_factory=dict)
    district_quotas: dict[tuple[str, str, str], int] = field(default_factory=dict)
    budgets: dict[str, int] = field(default_factory=dict)
    capacities: dict[str, int] = field(default_factory=dict)
    confirmed: dict[str, int] = field(default_factory=dict)
    projections: list[tuple[str, dict[Any, Any], dict[Any, Any]]] = field(default_factory=list)


def _dsn(url: str) -> str:
    return url.replace("+asyncpg", "").replace("+psycopg", "")


async def _rows(conn: asyncpg.Connection, sql: str) -> list[asyncpg.Record]:
    return list(await conn.fetch(sql))


async def snapshot(database_urls: Mapping[str, str]) -> Snapshot:
    conns = {s: await asyncpg.connect(_dsn(database_urls[s]), timeout=10) for s in SERVICES if s in database_urls}
    try:
        return await _read(conns)
    finally:
        for conn in conns.values():
            await conn.close()


async def _read(c: Mapping[str, asyncpg.Connection]) -> Snapshot:
    snap = Snapshot()
    for service, conn in c.items():
        snap.outboxes[service] = [
            OutboxRow(str(r["event_id"]), r["event_type"], r["topic"], r["created_at"], r["published_at"] is not None)
            for r in await _rows(conn, "SELECT event_id, event_type, topic, created_at, published_at FROM outbox")
        ]
        snap.inboxes[service] = [
            InboxRow(str(r["event_id"]), r["topic"], r["received_at"])
            for r in await _rows(conn, f"SELECT event_id, topic, received_at FROM inbox WHERE consumer = '{service}'")
        ]
        snap.dead_lettered[service] = {
            str(r["event_id"]) for r in await _rows(conn, "SELECT event_id FROM dead_letter WHERE event_id IS NOT NULL")
        }
    allocation, catalog, attendance = c["allocation"], c["catalog"], c["attendance"]
    registry, notifications = c["registry"], c["notifications"]
    snap.vouchers = [
        Voucher(str(r["round_id"]), r["district_code"], r["direction"], r["via"], int(r["cost_tiyn"]), r["status"])
        for r in await _rows(
            allocation, "SELECT round_id, district_code, direction, via, cost_tiyn, status FROM voucher"
        )
    ]
    snap.direction_quotas = {
        (str(r["round_id"]), r["direction"]): int(r["quota"])
        for r in await _rows(allocation, "SELECT round_id, direction, quota FROM round_direction")
    }
    snap.district_quotas = {
        (str(r["round_id"]), r["district_code"], r["direction"]): int(r["quota"])
        for r in await _rows(allocation, "SELECT round_id, district_code, direction, quota FROM round_quota")
    }
    snap.budgets = {
        str(r["round_id"]): int(r["budget_tiyn"])
        for r in await _rows(allocation, "SELECT round_id, budget_tiyn FROM round")
    }
    snap.capacities = {
        str(r["id"]): int(r["capacity"]) for r in await _rows(catalog, "SELECT id, capacity FROM programme")
    }
    snap.confirmed = {
        str(r["programme_id"]): int(r["n"])
        for r in await _rows(
            catalog,
            "SELECT programme_id, count(*) AS n FROM enrolment WHERE status = 'confirmed' GROUP BY programme_id",
        )
    }
    regions = "SELECT code, revision FROM region"
    source_regions = {r["code"]: r["revision"] for r in await _rows(allocation, regions)}
    for name, conn in (("registry", registry), ("catalog", catalog), ("attendance", attendance)):
        snap.projections.append(
            (f"regions in {name}", source_regions, {r["code"]: r["revision"] for r in await _rows(conn, regions)})
        )
    programmes = "SELECT id, provider_id, region_code, district_code, sessions_per_month, capacity FROM programme"

    def programme(r: asyncpg.Record) -> tuple[Any, ...]:
        return (str(r["provider_id"]), r["region_code"], r["district_code"], r["sessions_per_month"], r["capacity"])

    snap.projections.append(
        (
            "programmes in attendance",
            {str(r["id"]): programme(r) for r in await _rows(catalog, programmes)},
            {str(r["id"]): programme(r) for r in await _rows(attendance, programmes)},
        )
    )
    snap.projections.append(
        (
            "children in catalog",
            {
                str(r["id"]): (r["birth_date"], r["region_code"], r["district_code"])
                for r in await _rows(registry, "SELECT id, birth_date, region_code, district_code FROM child")
            },
            {
                str(r["child_id"]): (r["birth_date"], r["region_code"], r["district_code"])
                for r in await _rows(catalog, "SELECT child_id, birth_date, region_code, district_code FROM child")
            },
        )
    )
    active = {
        (str(r["child_id"]), str(r["guardian_id"])): True
        for r in await _rows(registry, "SELECT DISTINCT child_id, guardian_id FROM guardianship WHERE ended_at IS NULL")
    }
    for name, conn, table in (
        ("catalog", catalog, "guardianship"),
        ("attendance", attendance, "guardianship"),
        ("notifications", notifications, "guardian"),
    ):
        held = {
            (str(r["child_id"]), str(r["guardian_id"])): True
            for r in await _rows(conn, f"SELECT DISTINCT child_id, guardian_id FROM {table} WHERE active")
        }
        snap.projections.append((f"active guardianships in {name}", active, held))
    return snap


def findings_of(snap: Snapshot, subscribed: Mapping[str, set[Kind]], since: datetime | None = None) -> list[Finding]:
    found = delivery_findings(snap.outboxes, snap.inboxes, snap.dead_lettered, subscribed, since)
    found += quota_findings(snap.vouchers, snap.direction_quotas, snap.district_quotas, snap.budgets)
    found += capacity_findings(snap.capacities, snap.confirmed)
    for name, source, projection in snap.projections:
        found += projection_findings(name, source, projection)
    return found


def asyncapi_documents(folder: Path) -> dict[str, dict[str, Any]]:
    return {path.stem: json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))}


def reconciliation(payments_url: str, token: str) -> list[Finding]:
    try:
        with httpx.Client(base_url=payments_url, timeout=300.0) as client:
            response = client.get("/v1/reconciliation", headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        return [Finding("unreachable", "payments", f"reconciliation: {exc}")]
    if not response.is_success:
        return [Finding("unreachable", "payments", f"reconciliation answered {response.status_code}")]
    return reconciliation_findings(response.json())


def check(
    database_urls: Mapping[str, str],
    payments_url: str,
    token: str,
    asyncapi: Path,
    since: datetime | None = None,
) -> list[Finding]:
    subscribed = subscriptions(asyncapi_documents(asyncapi))
    found = reconciliation(payments_url, token)
    found += findings_of(asyncio.run(snapshot(database_urls)), subscribed, since)
    return sorted(found)


def as_json(findings: list[Finding]) -> str:
    return json.dumps({"findings": [asdict(f) for f in findings], "count": len(findings)}, indent=2)
