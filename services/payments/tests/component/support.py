"""Events and database helpers for payments' component tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from payments.adapters.peers import open_peers
from payments.domain.policy import Policy
from payments.service_layer.dependencies import Dependencies
from qosym_chassis.clock import Clock
from qosym_chassis.consumer import EventConsumer, Outcome
from qosym_contracts.allocation import (
    RoundOpenedV1,
    VoucherAwardedV1,
    VoucherExpiredV1,
    VoucherReleasedV1,
    VoucherRevokedV1,
)
from qosym_contracts.attendance import AttendanceConfirmedV1, AttendanceDisputedV1, DisputeResolvedV1
from qosym_contracts.catalog import EnrolmentConfirmedV1, EnrolmentEndedV1, ProviderVerifiedV1
from tests.support.events import message

MONTHLY = 1_500_000  # 15,000 ₸
MONTHS = 9
NOV = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
IBAN = "KZ86125KZT5004100100"
BIC = "HSBKKZKX"


@dataclass(frozen=True)
class FixedClock(Clock):
    """The clock of a test that runs the use cases at a chosen instant."""

    at: datetime = NOV

    def now(self) -> datetime:
        return self.at


def dependencies(sessions: async_sessionmaker[AsyncSession], clock: Clock | None = None) -> Dependencies:
    """Payments' dependencies over a test database (no treasury configured, peers on their default ports)."""
    return Dependencies(
        sessions=sessions,
        clock=clock or Clock(),
        policy=Policy(),
        treasury=lambda region_code: None,
        payment_initiator="Qosym tests",
        peers=lambda: open_peers("http://127.0.0.1:8002", "http://127.0.0.1:8004", 5.0),
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def round_opened(budget_tiyn: int = 100 * MONTHLY * MONTHS, round_id: UUID | None = None, **kw: Any) -> RoundOpenedV1:
    values: dict[str, Any] = {
        "round_id": round_id or uuid4(),
        "region_code": "astana",
        "application_opens_at": datetime(2026, 8, 1, tzinfo=UTC),
        "application_closes_at": datetime(2026, 8, 20, tzinfo=UTC),
        "reference_date": date(2026, 9, 1),
        "seed_sha256": "0" * 64,
        "budget_tiyn": budget_tiyn,
    }
    values.update(kw)
    return RoundOpenedV1(**values)


def voucher_awarded(round_id: UUID, voucher_id: UUID | None = None, **kw: Any) -> VoucherAwardedV1:
    values: dict[str, Any] = {
        "voucher_id": voucher_id or uuid4(),
        "application_id": uuid4(),
        "child_id": uuid4(),
        "region_code": "astana",
        "district_code": "yesil",
        "round_id": round_id,
        "direction": "sports",
        "monthly_value_tiyn": MONTHLY,
        "months": MONTHS,
        "valid_until": date(2027, 5, 31),
    }
    values.update(kw)
    return VoucherAwardedV1(**values)


def provider_verified(provider_id: UUID | None = None, **kw: Any) -> ProviderVerifiedV1:
    values: dict[str, Any] = {
        "provider_id": provider_id or uuid4(),
        "bin": "080540014021",
        "name": "Barys Hockey School",
        "region_code": "astana",
        "district_code": "yesil",
        "iban": IBAN,
        "bank_bic": BIC,
    }
    values.update(kw)
    return ProviderVerifiedV1(**values)


def enrolment_confirmed(voucher: VoucherAwardedV1, provider_id: UUID, **kw: Any) -> EnrolmentConfirmedV1:
    values: dict[str, Any] = {
        "enrolment_id": uuid4(),
        "child_id": voucher.child_id,
        "programme_id": uuid4(),
        "provider_id": provider_id,
        "voucher_id": voucher.voucher_id,
        "direction": "sports",
        "region_code": "astana",
        "district_code": "yesil",
        "price_per_month_tiyn": 1_200_000,
        "sessions_per_month": 9,
        "occurred_at": NOV,
    }
    values.update(kw)
    return EnrolmentConfirmedV1(**values)


async def enrolled(
    consumer: EventConsumer, round_id: UUID, **enrolment: Any
) -> tuple[VoucherAwardedV1, ProviderVerifiedV1, EnrolmentConfirmedV1]:
    """A voucher of the round awarded, a provider verified and an enrolment with them confirmed (``enrolment``
    overrides its fields), each delivered to the consumer and applied."""
    award = voucher_awarded(round_id)
    provider = provider_verified()
    confirmed = enrolment_confirmed(award, provider.provider_id, **enrolment)
    for event in (award, provider, confirmed):
        assert await consumer.deliver(message(event)) is Outcome.APPLIED
    return award, provider, confirmed


def enrolment_ended(enrolment: EnrolmentConfirmedV1, **kw: Any) -> EnrolmentEndedV1:
    values: dict[str, Any] = {"enrolment_id": enrolment.enrolment_id, "child_id": enrolment.child_id, "reason": "left"}
    values.update(kw)
    return EnrolmentEndedV1(**values)


def _timesheet(enrolment: EnrolmentConfirmedV1, period: str, planned: int) -> dict[str, Any]:
    return {
        "timesheet_id": uuid4(),
        "enrolment_id": enrolment.enrolment_id,
        "child_id": enrolment.child_id,
        "programme_id": enrolment.programme_id,
        "provider_id": enrolment.provider_id,
        "region_code": "astana",
        "period": period,
        "planned_sessions": planned,
    }


def attendance_confirmed(
    enrolment: EnrolmentConfirmedV1, payable: int = 7, planned: int = 9, period: str = "2026-11", **kw: Any
) -> AttendanceConfirmedV1:
    values = {
        **_timesheet(enrolment, period, planned),
        "payable_sessions": payable,
        "attended_sessions": payable,
        "basis": "guardian_confirmed",
    }
    values.update(kw)
    return AttendanceConfirmedV1(**values)


def attendance_disputed(enrolment: EnrolmentConfirmedV1, period: str = "2026-11") -> AttendanceDisputedV1:
    return AttendanceDisputedV1(**_timesheet(enrolment, period, 9), dispute_id=uuid4(), disputed_sessions=2)


def dispute_resolved(
    enrolment: EnrolmentConfirmedV1, payable: int, planned: int = 9, period: str = "2026-11", **kw: Any
) -> DisputeResolvedV1:
    values = {
        **_timesheet(enrolment, period, planned),
        "dispute_id": uuid4(),
        "payable_sessions": payable,
        "attended_sessions": payable,
        "outcome": "partly_upheld",
    }
    values.update(kw)
    return DisputeResolvedV1(**values)


def released(voucher: VoucherAwardedV1, until: date | None) -> VoucherReleasedV1:
    return VoucherReleasedV1(
        voucher_id=voucher.voucher_id,
        child_id=voucher.child_id,
        round_id=voucher.round_id,
        reason="enrolment_ended",
        reassignable_until=until,
    )


def expired(voucher: VoucherAwardedV1) -> VoucherExpiredV1:
    return VoucherExpiredV1(
        voucher_id=voucher.voucher_id,
        child_id=voucher.child_id,
        round_id=voucher.round_id,
        reason="release_grace_ended",
    )


def revoked(voucher: VoucherAwardedV1) -> VoucherRevokedV1:
    return VoucherRevokedV1(
        voucher_id=voucher.voucher_id, child_id=voucher.child_id, round_id=voucher.round_id, reason="false_information"
    )


async def fetch(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


async def value(url: str, sql: str, *args: Any) -> Any:
    rows = await fetch(url, sql, *args)
    return rows[0][0] if rows else None


async def balance(url: str, code: str) -> int | None:
    return await value(url, "SELECT balance FROM account WHERE code = $1", code)


async def available(url: str, code: str) -> int | None:
    return await value(url, "SELECT balance - pending_debits FROM account WHERE code = $1", code)


async def outbox(url: str, event_type: str | None = None) -> list[dict[str, Any]]:
    rows = await fetch(url, "SELECT event_type, payload FROM outbox ORDER BY id")
    payloads = [json.loads(r["payload"]) if isinstance(r["payload"], str) else r["payload"] for r in rows]
    return [p for r, p in zip(rows, payloads, strict=True) if event_type is None or r["event_type"] == event_type]


async def ledger_findings(url: str) -> list[str]:
    """The ledger's invariants, checked by the service's own SQL (adapters/ledger_checks.py)."""
    from payments.adapters.ledger_checks import ledger_findings as findings
    from qosym_chassis.db import make_engine, make_session_factory

    engine = make_engine(url, application_name="test-checks", pool_size=1)
    try:
        async with make_session_factory(engine)() as session:
            return [f.detail for f in await findings(session)]
    finally:
        await engine.dispose()
