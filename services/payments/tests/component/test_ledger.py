"""The ledger under attack: edits, overdrafts, races, redelivery under concurrency and a crash mid-transfer."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from uuid import uuid4

import asyncpg
import pytest

from payments.adapters import ledger
from payments.domain.ledger import AlreadyResolved, Overdraft, Transfer, TransferConflict, TransferKind
from qosym_chassis.consumer import Outcome
from qosym_chassis.db import make_engine, make_session_factory
from tests.support.events import message, region_event

from .support import (
    MONTHLY,
    MONTHS,
    attendance_confirmed,
    balance,
    enrolled,
    fetch,
    ledger_findings,
    outbox,
    round_opened,
    value,
    voucher_awarded,
)

pytestmark = pytest.mark.component
VOUCHER = MONTHLY * MONTHS


async def funded_round(service_db, consumer, budget: int):
    url = await service_db("payments")
    c = await consumer("payments", url)
    opened = round_opened(budget)
    for event in (region_event(), opened):
        await c.deliver(message(event))
    return url, c, opened


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE transfer SET amount = amount + 1",
        "DELETE FROM transfer",
        "UPDATE entry SET amount = 0",
        "DELETE FROM entry",
        "TRUNCATE entry",
        "TRUNCATE transfer CASCADE",
    ],
)
async def test_transfers_and_entries_cannot_be_edited(service_db, consumer, owner_url, statement) -> None:
    url, _, opened = await funded_round(service_db, consumer, VOUCHER)

    # even the owner role (migrations) hits the triggers; the app role has no TRUNCATE right at all
    with pytest.raises(asyncpg.PostgresError, match="append-only"):
        await fetch(owner_url("payments", url), statement)

    assert await balance(url, f"round_budget:{opened.round_id}") == VOUCHER
    assert await ledger_findings(url) == []


async def test_the_database_refuses_an_overdraft_even_if_the_code_would_not(service_db, consumer) -> None:
    url, _, opened = await funded_round(service_db, consumer, VOUCHER)

    with pytest.raises(asyncpg.CheckViolationError, match="no_overdraft"):
        await fetch(url, "UPDATE account SET balance = -1 WHERE code = $1", f"round_budget:{opened.round_id}")
    with pytest.raises(asyncpg.PostgresError, match="two netting to zero"):  # a transfer without its entries
        await fetch(
            url,
            "INSERT INTO transfer (id, business_key, kind, layer, debit_account_id, credit_account_id, amount)"
            " SELECT $1, 'forged', 'funding', 'posted', min(id), max(id), 5 FROM account",
            uuid4(),
        )


async def test_corrections_are_reversing_transfers(service_db, consumer) -> None:
    url, c, opened = await funded_round(service_db, consumer, 2 * VOUCHER)
    award = voucher_awarded(opened.round_id)
    await c.deliver(message(award))
    funding = await value(url, "SELECT id FROM transfer WHERE kind = 'funding'")
    engine = make_engine(url, application_name="test", pool_size=2)
    sessions = make_session_factory(engine)
    voucher, budget = f"voucher:{award.voucher_id}", f"round_budget:{opened.round_id}"
    try:
        reversal = Transfer(
            uuid4(), f"reverse:{funding}", TransferKind.REVERSAL, voucher, budget, VOUCHER, reverses_id=funding
        )
        async with sessions() as session, session.begin():
            await ledger.apply(session, reversal)
        async with sessions() as session, session.begin():  # the same correction again: the original is returned
            again, created = await ledger.apply(session, reversal)
        assert (again.id, created) == (reversal.id, False)
        with pytest.raises(TransferConflict):
            async with sessions() as session, session.begin():
                await ledger.apply(
                    session,
                    Transfer(
                        uuid4(), f"reverse:{funding}", TransferKind.REVERSAL, voucher, budget, 1, reverses_id=funding
                    ),
                )
        with pytest.raises(Overdraft):  # nothing left to reverse a second time under another key
            async with sessions() as session, session.begin():
                await ledger.apply(
                    session,
                    Transfer(uuid4(), "again", TransferKind.REVERSAL, voucher, budget, VOUCHER, reverses_id=funding),
                )
    finally:
        await engine.dispose()
    assert await balance(url, budget) == 2 * VOUCHER
    assert await ledger_findings(url) == []


async def test_a_concurrent_post_and_void_of_one_hold_resolve_it_once(service_db, consumer) -> None:
    url, c, opened = await funded_round(service_db, consumer, VOUCHER)
    award, provider, _enrolment = await enrolled(c, opened.round_id)
    hold = await value(url, "SELECT transfer_id FROM hold")
    amount = await value(url, "SELECT amount_tiyn FROM hold")
    voucher, payable = f"voucher:{award.voucher_id}", f"provider_payable:{provider.provider_id}"
    engine = make_engine(url, application_name="test", pool_size=4)
    sessions = make_session_factory(engine)

    async def release(kind: TransferKind) -> str:
        try:
            async with sessions() as session, session.begin():
                await ledger.apply(
                    session,
                    Transfer(uuid4(), f"{kind}:{hold}:{uuid4()}", kind, payable, voucher, amount, pending_id=hold),
                )
            return "won"
        except AlreadyResolved:
            return "lost"

    try:
        results = await asyncio.gather(*(release(k) for k in [TransferKind.POST, TransferKind.VOID] * 5))
    finally:
        await engine.dispose()
    assert results.count("won") == 1
    assert await value(url, "SELECT count(*) FROM transfer WHERE pending_id = $1", hold) == 1
    assert await ledger_findings(url) == []


async def test_a_thousand_concurrent_awards_against_a_budget_for_a_hundred_fund_exactly_a_hundred(
    service_db, consumer
) -> None:
    url, c, opened = await funded_round(service_db, consumer, 100 * VOUCHER)
    awards = [voucher_awarded(opened.round_id) for _ in range(1000)]
    gate = asyncio.Semaphore(20)  # the connection pool's size

    async def deliver(event) -> Outcome:
        async with gate:
            return await c.deliver(message(event))

    outcomes = await asyncio.gather(*(deliver(a) for a in awards))

    assert set(outcomes) == {Outcome.APPLIED}
    assert await value(url, "SELECT count(*) FROM voucher WHERE status = 'funded'") == 100
    assert await value(url, "SELECT count(*) FROM voucher WHERE status = 'refused'") == 900
    assert await balance(url, f"round_budget:{opened.round_id}") == 0
    assert len(await outbox(url, "payments.VoucherFundingRefused")) == 900
    assert await value(url, "SELECT count(*) FROM account WHERE kind = 'voucher'") == 100
    thresholds = [e["threshold_percent"] for e in await outbox(url, "payments.BudgetThresholdReached")]
    assert sorted(thresholds) == [50, 75, 90, 100]
    assert await ledger_findings(url) == []


async def test_the_same_confirmation_delivered_concurrently_posts_once(service_db, consumer) -> None:
    url, c, opened = await funded_round(service_db, consumer, VOUCHER)
    _award, provider, enrolment = await enrolled(c, opened.round_id)
    confirmed = attendance_confirmed(enrolment, payable=9, planned=9)
    copies = [confirmed] * 10 + [confirmed.model_copy(update={"event_id": uuid4()}) for _ in range(10)]

    outcomes = await asyncio.gather(*(c.deliver(message(e)) for e in copies))

    assert Outcome.DEAD_LETTERED not in outcomes
    assert await value(url, "SELECT count(*) FROM accrual") == 1
    assert await balance(url, f"provider_payable:{provider.provider_id}") == 1_200_000
    assert len(await outbox(url, "payments.PaymentAccrued")) == 1
    assert await ledger_findings(url) == []


CRASHING_CONSUMER = textwrap.dedent(
    """
    import asyncio, sys
    from payments.config import PaymentsSettings
    from payments.entrypoints.consumers import register
    from qosym_chassis.consumer import EventConsumer, IncomingMessage
    from qosym_chassis.context import build_context

    async def main():
        settings = PaymentsSettings(database_url=sys.argv[1], kafka_bootstrap_servers=sys.argv[2], redis_url=sys.argv[3])
        ctx = build_context(settings, "consumers")
        consumer = EventConsumer(service="payments", engine=ctx.engine, session_factory=ctx.session_factory)
        register(consumer, ctx)
        body = sys.stdin.buffer.read()
        print(await consumer.deliver(IncomingMessage(topic=sys.argv[4], body=body)))

    asyncio.run(main())
    """
)


@pytest.mark.parametrize("kill_at", ["before_commit", "after_commit"])
async def test_a_consumer_killed_mid_transfer_changes_nothing_twice(
    service_db, consumer, stack_servers, tmp_path, kill_at
) -> None:
    url, c, opened = await funded_round(service_db, consumer, VOUCHER)
    _award, provider, enrolment = await enrolled(c, opened.round_id)
    confirmed = attendance_confirmed(enrolment, payable=7, planned=9)
    env = {**os.environ, "QOSYM_FAULT_KILL_AT": kill_at, "QOSYM_FAULT_MARKER": str(tmp_path / "fired")}
    state = stack_servers.state

    crashed = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", CRASHING_CONSUMER, url, state.kafka_bootstrap_servers, state.redis_url, confirmed.topic],
        input=confirmed.model_dump_json().encode(),
        env=env,
        capture_output=True,
        timeout=120,
    )

    assert crashed.returncode == 137, crashed.stderr.decode()[-2000:]
    committed = await value(url, "SELECT count(*) FROM accrual")
    assert committed == (1 if kill_at == "after_commit" else 0)  # all of the transfer, or none of it
    assert await ledger_findings(url) == []
    # the broker redelivers the unacknowledged message to the restarted consumer
    redelivered = await c.deliver(message(confirmed))
    assert redelivered is (Outcome.DUPLICATE if kill_at == "after_commit" else Outcome.APPLIED)
    assert await value(url, "SELECT count(*) FROM accrual") == 1
    assert await balance(url, f"provider_payable:{provider.provider_id}") == 1_200_000 * 7 // 9
    assert await value(url, "SELECT count(*) FROM transfer WHERE kind = 'accrual'") == 1
    assert await ledger_findings(url) == []
