"""Payable months applied as a batch (one transaction, set-based ledger writes) against payments' real database:
the same ledger as one event at a time, duplicates posted once, missing enrolments parked, and batches over the
same accounts in opposite orders never deadlocking."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy.exc import IntegrityError

from payments.adapters import ledger
from payments.domain.ledger import Overdraft, Transfer, TransferConflict, TransferKind
from payments.service_layer import batch_flows
from qosym_chassis.consumer import Outcome, Reject
from qosym_chassis.db import make_engine, make_session_factory
from tests.support.events import message, region_event

from .support import (
    MONTHLY,
    MONTHS,
    FixedClock,
    attendance_confirmed,
    dependencies,
    dispute_resolved,
    enrolment_confirmed,
    fetch,
    ledger_findings,
    outbox,
    provider_verified,
    round_opened,
    value,
    voucher_awarded,
)

pytestmark = pytest.mark.component
VOUCHER = MONTHLY * MONTHS


def enrolments_of(round_id: UUID, providers: int, count: int) -> tuple[list[Any], list[Any]]:
    """Events that set up ``count`` enrolments spread over ``providers`` providers (awards, providers, enrolments),
    in the order a consumer applies them, and the enrolments."""
    verified = [provider_verified() for _ in range(providers)]
    awards = [voucher_awarded(round_id) for _ in range(count)]
    confirmed = [
        enrolment_confirmed(a, verified[i % providers].provider_id, price_per_month_tiyn=1_200_000 + 7 * i)
        for i, a in enumerate(awards)
    ]
    return [*verified, *awards, *confirmed], confirmed


async def database(service_db, consumer, setup: list[Any]):
    url = await service_db("payments")
    c = await consumer("payments", url)
    for event in setup:
        assert await c.deliver(message(event)) is Outcome.APPLIED
    return url, c


async def in_one_transaction(url: str, batch: list[Any]) -> dict[UUID, str]:
    engine = make_engine(url, application_name="test-batch", pool_size=1)
    try:
        sessions = make_session_factory(engine)
        async with sessions() as session, session.begin():
            parked = await batch_flows.on_many_payable_months(dependencies(sessions, FixedClock()), session, batch)
        return dict(parked)
    finally:
        await engine.dispose()


async def ledger_rows(url: str) -> dict[str, Any]:
    """The ledger and the records as comparable values: transfer ids are random, so a release is named by its
    hold's business key, and an entry by its transfer's."""
    transfers = await fetch(
        url,
        "SELECT CASE WHEN t.kind IN ('post', 'void') THEN t.kind || ':' || h.business_key ELSE t.business_key END"
        " AS key, t.kind, d.code AS debit, c.code AS credit, t.amount, h.business_key AS hold"
        " FROM transfer t JOIN account d ON d.id = t.debit_account_id JOIN account c ON c.id = t.credit_account_id"
        " LEFT JOIN transfer h ON h.id = t.pending_id ORDER BY 1",
    )
    entries = await fetch(
        url,
        "SELECT a.code, e.amount, e.layer, e.account_version,"
        " CASE WHEN t.kind IN ('post', 'void') THEN t.kind || ':' || h.business_key ELSE t.business_key END AS key"
        " FROM entry e JOIN account a ON a.id = e.account_id JOIN transfer t ON t.id = e.transfer_id"
        " LEFT JOIN transfer h ON h.id = t.pending_id ORDER BY a.code, e.account_version",
    )
    accounts = await fetch(
        url, "SELECT code, balance, pending_debits, pending_credits, version FROM account ORDER BY code"
    )
    holds = await fetch(url, "SELECT enrolment_id, period, seq, amount_tiyn, status FROM hold ORDER BY 1, 2, 3")
    accruals = await fetch(
        url,
        "SELECT enrolment_id, period, provider_id, voucher_id, round_id, timesheet_id, amount_tiyn, payable_sessions,"
        " planned_sessions, price_per_month_tiyn, cause_event_id, (transfer_id IS NOT NULL) AS transferred"
        " FROM accrual ORDER BY 1, 2",
    )
    accrued = sorted(
        (
            {k: v for k, v in p.items() if k not in ("accrual_id", "event_id", "occurred_at")}
            for p in await outbox(url, "payments.PaymentAccrued")
        ),
        key=lambda p: (p["enrolment_id"], p["period"]),
    )
    return {
        "transfers": [dict(r) for r in transfers],
        "entries": [dict(r) for r in entries],
        "accounts": [dict(r) for r in accounts],
        "holds": [dict(r) for r in holds],
        "accruals": [dict(r) for r in accruals],
        "accrued": accrued,
    }


async def test_a_batch_of_months_writes_the_ledger_one_event_at_a_time_would(service_db, consumer) -> None:
    opened = round_opened(40 * VOUCHER)
    setup, enrolments = enrolments_of(opened.round_id, providers=3, count=12)
    setup = [region_event(), opened, *setup]
    november = [attendance_confirmed(e, payable=i % 10, planned=9) for i, e in enumerate(enrolments)]
    december = [attendance_confirmed(e, payable=9, planned=9, period="2026-12") for e in enrolments[::2]]
    disputed = [dispute_resolved(e, payable=5, period="2027-01") for e in enrolments[:3]]
    again = [november[0].model_copy(update={"event_id": uuid4()}), dispute_resolved(enrolments[1], payable=1)]
    batch = [*november, *december, *disputed, *again]  # holds that exist, holds made on demand, months again

    one_by_one, c = await database(service_db, consumer, setup)
    for event in batch:
        assert await c.deliver(message(event)) is Outcome.APPLIED
    batched, _ = await database(service_db, consumer, setup)
    assert await in_one_transaction(batched, batch) == {}

    expected, got = await ledger_rows(one_by_one), await ledger_rows(batched)
    assert len(got["accruals"]) == 12 + 6 + 3
    assert len([t for t in got["transfers"] if t["kind"] == "hold"]) == 12 + 6 + 3
    for part in expected:
        assert got[part] == expected[part], part
    assert await ledger_findings(batched) == []


async def test_a_month_posted_before_or_twice_in_the_batch_is_posted_once(service_db, consumer) -> None:
    opened = round_opened(10 * VOUCHER)
    setup, [first, second] = enrolments_of(opened.round_id, providers=1, count=2)
    url, c = await database(service_db, consumer, [region_event(), opened, *setup])
    earlier = attendance_confirmed(first, payable=9)
    assert await c.deliver(message(earlier)) is Outcome.APPLIED
    month = attendance_confirmed(second, payable=7)

    parked = await in_one_transaction(
        url, [attendance_confirmed(first, payable=3), month, month.model_copy(update={"event_id": uuid4()})]
    )

    assert parked == {}
    rows = await fetch(url, "SELECT enrolment_id, amount_tiyn FROM accrual ORDER BY posted_at, amount_tiyn")
    assert sorted((r["enrolment_id"], r["amount_tiyn"]) for r in rows) == sorted(
        [(first.enrolment_id, 1_200_000), (second.enrolment_id, (1_200_007 * 7) // 9)]
    )
    assert await value(url, "SELECT count(*) FROM transfer WHERE kind = 'accrual'") == 2
    assert len(await outbox(url, "payments.PaymentAccrued")) == 2
    assert await ledger_findings(url) == []


async def test_an_event_whose_enrolment_is_missing_is_returned_to_be_parked(service_db, consumer) -> None:
    opened = round_opened(10 * VOUCHER)
    setup, [known] = enrolments_of(opened.round_id, providers=1, count=1)
    url, _ = await database(service_db, consumer, [region_event(), opened, *setup])
    stranger = enrolment_confirmed(voucher_awarded(opened.round_id), uuid4())
    waiting = attendance_confirmed(stranger)

    parked = await in_one_transaction(url, [waiting, attendance_confirmed(known)])

    assert parked == {waiting.event_id: f"enrolment:{stranger.enrolment_id}"}
    assert await value(url, "SELECT count(*) FROM accrual") == 1
    assert await value(url, "SELECT enrolment_id FROM accrual") == known.enrolment_id
    assert await ledger_findings(url) == []


async def test_a_timesheet_of_another_provider_refuses_the_batch(service_db, consumer) -> None:
    opened = round_opened(10 * VOUCHER)
    setup, [enrolment] = enrolments_of(opened.round_id, providers=1, count=1)
    url, _ = await database(service_db, consumer, [region_event(), opened, *setup])

    with pytest.raises(Reject, match="provider"):
        await in_one_transaction(url, [attendance_confirmed(enrolment, provider_id=uuid4())])

    assert await value(url, "SELECT count(*) FROM accrual") == 0


async def test_a_transfer_batch_with_a_refusal_writes_nothing(service_db, consumer) -> None:
    """The set-based form keeps the single transfer's rules: an overdraft counted over the batch's earlier
    transfers, or a business key already used for another transfer, refuses the whole batch; a business key twice
    within the batch is refused by the database's unique index."""
    opened = round_opened(10 * VOUCHER)
    url, _ = await database(service_db, consumer, [region_event(), opened])
    budget = f"round_budget:{opened.round_id}"
    engine = make_engine(url, application_name="test-batch", pool_size=1)
    try:
        sessions = make_session_factory(engine)
        treasury = "treasury:astana"

        def back(key: str, amount: int) -> Transfer:
            return Transfer(uuid4(), key, TransferKind.RETURN, budget, treasury, amount)

        async with sessions() as session, session.begin():
            with pytest.raises(Overdraft):  # each alone fits; the second does not after the first
                await ledger.apply_many(session, [back("b:1", 6 * VOUCHER), back("b:2", 6 * VOUCHER)])
            with pytest.raises(TransferConflict):  # the round's appropriation key, for another transfer
                await ledger.apply_many(session, [back("b:3", 1), back(f"approp:{opened.round_id}", 5)])
            [(written, created)] = await ledger.apply_many(session, [back("b:4", 10)])
            [(again, created_again)] = await ledger.apply_many(session, [back("b:4", 10)])
            assert created and not created_again and again.id == written.id
        with pytest.raises(IntegrityError):
            async with sessions() as session, session.begin():
                await ledger.apply_many(session, [back("b:5", 1), back("b:5", 1)])
    finally:
        await engine.dispose()
    assert await value(url, "SELECT count(*) FROM transfer WHERE kind = 'return'") == 1
    assert await value(url, "SELECT balance FROM account WHERE code = $1", budget) == 10 * VOUCHER - 10
    assert await ledger_findings(url) == []


async def test_batches_over_the_same_accounts_in_opposite_orders_do_not_deadlock(service_db, consumer) -> None:
    """Two transactions post months of the same vouchers and providers, one batch in the reverse order of the
    other. Taken event by event, their locks would cross; taken in one order before any transfer, one waits for
    the other. The first is held open until the second is seen waiting for a lock, then both commit."""
    opened = round_opened(40 * VOUCHER)
    setup, enrolments = enrolments_of(opened.round_id, providers=2, count=8)
    url, _ = await database(service_db, consumer, [region_event(), opened, *setup])
    december = [attendance_confirmed(e, payable=8, period="2026-12") for e in enrolments]
    january = [attendance_confirmed(e, payable=6, period="2027-01") for e in reversed(enrolments)]
    engine = make_engine(url, application_name="test-batch-race", pool_size=4)
    try:
        sessions = make_session_factory(engine)
        deps = dependencies(sessions, FixedClock())
        first_applied, second_waits = asyncio.Event(), asyncio.Event()

        async def first() -> dict[UUID, str]:
            async with sessions() as session, session.begin():
                parked = await batch_flows.on_many_payable_months(deps, session, december)
                first_applied.set()
                await second_waits.wait()
            return dict(parked)

        async def second() -> dict[UUID, str]:
            await first_applied.wait()
            async with sessions() as session, session.begin():
                return dict(await batch_flows.on_many_payable_months(deps, session, january))

        async def watch() -> None:
            await first_applied.wait()
            for _ in range(1200):  # the second transaction waits for a lock the first holds
                if await value(
                    url,
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'test-batch-race'"
                    " AND wait_event_type = 'Lock'",
                ):
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the second batch never waited for the first one's locks")
            second_waits.set()

        results = await asyncio.wait_for(asyncio.gather(first(), second(), watch()), 60)
        assert results[:2] == [{}, {}]

        # and with no ordering between them at all, several times over: both commit every time
        for period in ("2027-02", "2027-03", "2027-04"):
            forward = [attendance_confirmed(e, payable=9, period=period) for e in enrolments]

            async def run(batch: list[Any]) -> dict[UUID, str]:
                async with sessions() as session, session.begin():
                    return dict(await batch_flows.on_many_payable_months(deps, session, batch))

            both = await asyncio.wait_for(asyncio.gather(run(forward[:5]), run(forward[3:][::-1])), 60)
            assert both == [{}, {}]
    finally:
        await engine.dispose()
    assert await value(url, "SELECT count(*) FROM accrual") == 8 * 5
    assert await ledger_findings(url) == []


async def test_a_batch_of_awards_funds_and_refuses_as_one_event_at_a_time_would(service_db, consumer) -> None:
    """A round's burst: the budget runs out within the batch (the rest refused whole, each saying what was left),
    thresholds are crossed on the way (each published once, with the figures of its moment), a voucher awarded
    twice is funded once, and an award of a round not here yet is returned to be parked."""
    opened = round_opened(10 * VOUCHER + VOUCHER // 2)
    awards = [voucher_awarded(opened.round_id) for _ in range(13)]
    twice = awards[4].model_copy(update={"event_id": uuid4()})
    stranger = voucher_awarded(uuid4())
    batch = [*awards[:6], twice, stranger, *awards[6:]]

    one_by_one, c = await database(service_db, consumer, [region_event(), opened])
    for event in batch:
        assert await c.deliver(message(event)) is Outcome.APPLIED
    batched, _ = await database(service_db, consumer, [region_event(), opened])
    engine = make_engine(batched, application_name="test-batch", pool_size=1)
    try:
        sessions = make_session_factory(engine)
        async with sessions() as session, session.begin():
            parked = await batch_flows.on_many_vouchers_awarded(dependencies(sessions, FixedClock()), session, batch)
    finally:
        await engine.dispose()

    assert dict(parked) == {stranger.event_id: f"round:{stranger.round_id}"}
    expected, got = await ledger_rows(one_by_one), await ledger_rows(batched)
    assert len([t for t in got["transfers"] if t["kind"] == "funding"]) == 10
    for part in ("transfers", "entries", "accounts"):
        assert got[part] == expected[part], part

    async def records(url: str) -> dict[str, Any]:
        vouchers = await fetch(
            url,
            "SELECT v.voucher_id, v.status, v.requested_tiyn, v.available_at_refusal_tiyn, a.code"
            " FROM voucher v LEFT JOIN account a ON a.id = v.account_id ORDER BY 1",
        )
        thresholds = await fetch(url, "SELECT threshold_percent, committed_tiyn FROM budget_threshold ORDER BY 1")
        published = [
            {k: v for k, v in p.items() if k not in ("event_id", "occurred_at")}
            for p in await outbox(url)
            if "voucher_id" in p or "threshold_percent" in p
        ]
        return {"vouchers": [dict(r) for r in vouchers], "thresholds": [dict(r) for r in thresholds], "out": published}

    mine, theirs = await records(batched), await records(one_by_one)
    assert [r["threshold_percent"] for r in mine["thresholds"]] == [50, 75, 90]  # 10 of 10.5 vouchers: 95 %
    assert len([r for r in mine["vouchers"] if r["status"] == "refused"]) == 3
    assert mine == theirs
    assert await ledger_findings(batched) == []
