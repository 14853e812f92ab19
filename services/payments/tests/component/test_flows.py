"""Consumers fed events: appropriation, funding, holds, accruals, returns; redelivery and out-of-order arrival."""

from __future__ import annotations

import asyncio
from datetime import date
from uuid import uuid4

import pytest

from payments.service_layer import flows
from qosym_chassis.consumer import Outcome
from qosym_chassis.db import make_engine, make_session_factory
from tests.support.events import message, region_event

from .support import (
    MONTHLY,
    MONTHS,
    FixedClock,
    attendance_confirmed,
    attendance_disputed,
    available,
    balance,
    dependencies,
    dispute_resolved,
    enrolled,
    enrolment_confirmed,
    enrolment_ended,
    expired,
    fetch,
    ledger_findings,
    outbox,
    provider_verified,
    released,
    revoked,
    round_opened,
    value,
    voucher_awarded,
)

pytestmark = pytest.mark.component
VOUCHER = MONTHLY * MONTHS


async def setup(service_db, consumer, budget: int = 10 * VOUCHER):
    url = await service_db("payments")
    c = await consumer("payments", url)
    assert await c.deliver(message(region_event())) is Outcome.APPLIED
    opened = round_opened(budget)
    assert await c.deliver(message(opened)) is Outcome.APPLIED
    return url, c, opened


async def test_a_round_is_appropriated_once_from_the_treasury(service_db, consumer) -> None:
    url, c, opened = await setup(service_db, consumer)

    assert await c.deliver(message(opened)) is Outcome.DUPLICATE
    assert await c.deliver(message(opened.model_copy(update={"event_id": uuid4()}))) is Outcome.APPLIED

    assert await balance(url, f"round_budget:{opened.round_id}") == 10 * VOUCHER
    assert await balance(url, "treasury:astana") == -10 * VOUCHER
    assert await value(url, "SELECT count(*) FROM transfer WHERE kind = 'appropriation'") == 1
    assert await ledger_findings(url) == []


async def test_a_round_without_a_budget_is_dead_lettered(service_db, consumer) -> None:
    url = await service_db("payments")
    c = await consumer("payments", url)

    assert await c.deliver(message(round_opened(budget_tiyn=None))) is Outcome.DEAD_LETTERED
    assert await value(url, "SELECT count(*) FROM funding_round") == 0


async def test_a_voucher_is_funded_from_its_rounds_budget(service_db, consumer) -> None:
    url, c, opened = await setup(service_db, consumer)
    award = voucher_awarded(opened.round_id)

    assert await c.deliver(message(award)) is Outcome.APPLIED
    assert await c.deliver(message(award)) is Outcome.DUPLICATE
    assert await c.deliver(message(award.model_copy(update={"event_id": uuid4()}))) is Outcome.APPLIED

    assert await balance(url, f"voucher:{award.voucher_id}") == VOUCHER
    assert await balance(url, f"round_budget:{opened.round_id}") == 9 * VOUCHER
    assert await ledger_findings(url) == []


async def test_funding_beyond_the_budget_is_refused_whole_and_visibly(service_db, consumer) -> None:
    url, c, opened = await setup(service_db, consumer, budget=VOUCHER + VOUCHER // 2)
    first, second = voucher_awarded(opened.round_id), voucher_awarded(opened.round_id)
    await c.deliver(message(first))

    assert await c.deliver(message(second)) is Outcome.APPLIED

    assert await balance(url, f"voucher:{second.voucher_id}") is None  # no account, no transfer: nothing partial
    assert await balance(url, f"round_budget:{opened.round_id}") == VOUCHER // 2
    [refusal] = await outbox(url, "payments.VoucherFundingRefused")
    assert refusal["voucher_id"] == str(second.voucher_id)
    assert (refusal["requested_tiyn"], refusal["available_tiyn"]) == (VOUCHER, VOUCHER // 2)
    status = await value(url, "SELECT status FROM voucher WHERE voucher_id = $1", second.voucher_id)
    assert status == "refused"
    assert await ledger_findings(url) == []


async def test_a_confirmed_month_posts_the_prorated_price_and_voids_the_rest(service_db, consumer) -> None:
    url, c, opened = await setup(service_db, consumer)
    award, provider, enrolment = await enrolled(c, opened.round_id, price_per_month_tiyn=1_200_001)
    voucher, payable = f"voucher:{award.voucher_id}", f"provider_payable:{provider.provider_id}"
    assert await available(url, voucher) == VOUCHER - 1_200_001  # the month's price is held
    assert await ledger_findings(url) == []

    confirmed = attendance_confirmed(enrolment, payable=7, planned=9)
    assert await c.deliver(message(confirmed)) is Outcome.APPLIED

    expected = 1_200_001 * 7 // 9  # 933,334 tiyn: floor to the tiyn
    assert await balance(url, payable) == expected
    assert await available(url, voucher) == VOUCHER - expected  # the remainder of the hold came back
    assert await value(url, "SELECT pending_credits FROM account WHERE code = $1", payable) == 0
    [accrued] = await outbox(url, "payments.PaymentAccrued")
    assert accrued["amount_tiyn"] == expected
    assert (accrued["payable_sessions"], accrued["planned_sessions"], accrued["period"]) == (7, 9, "2026-11")
    assert await ledger_findings(url) == []


async def test_the_same_month_twice_posts_once(service_db, consumer) -> None:
    url, c, opened = await setup(service_db, consumer)
    _award, provider, enrolment = await enrolled(c, opened.round_id)
    confirmed = attendance_confirmed(enrolment, payable=9, planned=9)

    assert await c.deliver(message(confirmed)) is Outcome.APPLIED
    assert await c.deliver(message(confirmed)) is Outcome.DUPLICATE
    # the same intent under a new event id, and a dispute resolved for the same month: nothing more
    assert await c.deliver(message(confirmed.model_copy(update={"event_id": uuid4()}))) is Outcome.APPLIED
    assert await c.deliver(message(dispute_resolved(enrolment, payable=3))) is Outcome.APPLIED

    assert await balance(url, f"provider_payable:{provider.provider_id}") == 1_200_000
    assert await value(url, "SELECT count(*) FROM accrual") == 1
    assert len(await outbox(url, "payments.PaymentAccrued")) == 1
    assert await ledger_findings(url) == []


async def test_the_accrual_is_capped_by_the_vouchers_monthly_value(service_db, consumer) -> None:
    url, c, opened = await setup(service_db, consumer)
    _award, provider, enrolment = await enrolled(c, opened.round_id, price_per_month_tiyn=2_000_000)

    await c.deliver(message(attendance_confirmed(enrolment, payable=12, planned=9)))

    assert await balance(url, f"provider_payable:{provider.provider_id}") == MONTHLY


async def test_a_disputed_month_pays_nothing_until_resolved(service_db, consumer) -> None:
    url, c, opened = await setup(service_db, consumer)
    _award, provider, enrolment = await enrolled(c, opened.round_id)

    assert await c.deliver(message(attendance_disputed(enrolment))) is Outcome.IGNORED
    assert await balance(url, f"provider_payable:{provider.provider_id}") == 0

    await c.deliver(message(dispute_resolved(enrolment, payable=6)))
    assert await balance(url, f"provider_payable:{provider.provider_id}") == 1_200_000 * 6 // 9
    assert await ledger_findings(url) == []


async def test_a_later_month_is_held_and_posted_on_demand(service_db, consumer) -> None:
    url, c, opened = await setup(service_db, consumer)
    _award, provider, enrolment = await enrolled(c, opened.round_id)

    await c.deliver(message(attendance_confirmed(enrolment, payable=9, planned=9, period="2026-12")))
    await c.deliver(message(attendance_confirmed(enrolment, payable=9, planned=9, period="2026-11")))

    assert await balance(url, f"provider_payable:{provider.provider_id}") == 2 * 1_200_000
    holds = await fetch(url, "SELECT period, status FROM hold ORDER BY period")
    assert [(h["period"], h["status"]) for h in holds] == [("2026-11", "posted"), ("2026-12", "posted")]
    assert await ledger_findings(url) == []


async def test_events_in_any_order_end_in_the_same_state(service_db, consumer) -> None:
    url = await service_db("payments")
    c = await consumer("payments", url)
    opened = round_opened(10 * VOUCHER)
    award = voucher_awarded(opened.round_id)
    provider = provider_verified()
    enrolment = enrolment_confirmed(award, provider.provider_id)
    confirmed = attendance_confirmed(enrolment, payable=7, planned=9)

    for event in (confirmed, enrolment, award, provider, opened):
        assert await c.deliver(message(event)) is Outcome.APPLIED
    # the voucher is funded; the enrolment now waits for its region, the month for the enrolment
    assert await value(url, "SELECT count(*) FROM parked_event") == 2
    assert await c.deliver(message(region_event())) is Outcome.APPLIED

    assert await value(url, "SELECT count(*) FROM parked_event") == 0
    assert await balance(url, f"provider_payable:{provider.provider_id}") == 1_200_000 * 7 // 9
    assert await balance(url, f"voucher:{award.voucher_id}") == VOUCHER - 1_200_000 * 7 // 9
    assert await ledger_findings(url) == []


async def test_a_released_voucher_keeps_its_money_during_the_grace_and_returns_it_when_it_ends(
    service_db, consumer
) -> None:
    url, c, opened = await setup(service_db, consumer)
    award, provider, enrolment = await enrolled(c, opened.round_id)
    await c.deliver(message(enrolment_ended(enrolment)))
    await c.deliver(message(released(award, until=date(2026, 11, 20))))
    budget = f"round_budget:{opened.round_id}"
    assert await balance(url, budget) == 9 * VOUCHER  # nothing returned during the grace period

    await c.deliver(message(expired(award)))

    # the November hold stays (November may still be timesheeted); the rest is back in the round
    assert await balance(url, budget) == 10 * VOUCHER - 1_200_000
    await c.deliver(message(attendance_confirmed(enrolment, payable=3, planned=9)))
    assert await balance(url, f"provider_payable:{provider.provider_id}") == 400_000
    assert await balance(url, budget) == 10 * VOUCHER - 400_000
    assert await balance(url, f"voucher:{award.voucher_id}") == 0
    assert await ledger_findings(url) == []


async def test_a_reservation_that_never_started_voids_its_hold(service_db, consumer) -> None:
    url, c, opened = await setup(service_db, consumer)
    award, _provider, enrolment = await enrolled(c, opened.round_id)

    await c.deliver(message(enrolment_ended(enrolment, reason="reservation_expired")))

    assert await available(url, f"voucher:{award.voucher_id}") == VOUCHER
    assert await value(url, "SELECT status FROM hold") == "voided"
    assert await ledger_findings(url) == []


async def test_a_revoked_voucher_returns_its_unused_balance(service_db, consumer) -> None:
    url, c, opened = await setup(service_db, consumer)
    award = voucher_awarded(opened.round_id)
    await c.deliver(message(award))

    assert await c.deliver(message(revoked(award))) is Outcome.APPLIED
    assert await c.deliver(message(revoked(award))) is Outcome.APPLIED  # same intent, new event id: once

    assert await balance(url, f"round_budget:{opened.round_id}") == 10 * VOUCHER
    assert await balance(url, f"voucher:{award.voucher_id}") == 0
    assert await value(url, "SELECT count(*) FROM transfer WHERE kind = 'return'") == 1
    assert await ledger_findings(url) == []


async def test_a_timesheet_of_another_provider_is_dead_lettered(service_db, consumer) -> None:
    url, c, opened = await setup(service_db, consumer)
    _award, _provider, enrolment = await enrolled(c, opened.round_id)

    forged = attendance_confirmed(enrolment, provider_id=uuid4())
    assert await c.deliver(message(forged)) is Outcome.DEAD_LETTERED
    assert await value(url, "SELECT count(*) FROM accrual") == 0


async def test_holds_of_long_past_months_time_out(service_db, consumer) -> None:
    from datetime import UTC, datetime

    from payments.service_layer import sweeps
    from qosym_chassis.db import make_engine, make_session_factory

    url, c, opened = await setup(service_db, consumer)
    award, _provider, _enrolment = await enrolled(c, opened.round_id)  # holds November 2026
    engine = make_engine(url, application_name="test-sweep", pool_size=1)
    try:
        sessions = make_session_factory(engine)
        february, march = (dependencies(sessions, FixedClock(at=datetime(2027, m, 1, tzinfo=UTC))) for m in (2, 3))
        assert await sweeps.void_stale_holds(february) == 0  # the default timeout: 3 months
        assert await sweeps.void_stale_holds(march) == 1
        assert await sweeps.void_stale_holds(march) == 0
    finally:
        await engine.dispose()
    assert await value(url, "SELECT status FROM hold") == "voided"
    assert await available(url, f"voucher:{award.voucher_id}") == VOUCHER
    assert await ledger_findings(url) == []


async def test_an_event_that_looked_before_its_prerequisite_committed_is_never_left_parked(
    service_db, consumer
) -> None:
    """The award's transaction has recorded the voucher and looked for events waiting on it, but not committed; an
    EnrolmentConfirmed for that voucher, handled meanwhile, cannot see the voucher and would park itself after the
    award's look — stuck for ever. Parking waits for the key's lock and re-checks, so the hold is made once the
    award commits."""
    url, c, opened = await setup(service_db, consumer)
    provider = provider_verified()
    assert await c.deliver(message(provider)) is Outcome.APPLIED
    award = voucher_awarded(opened.round_id)
    enrolment = enrolment_confirmed(award, provider.provider_id)
    engine = make_engine(url, application_name="payments-race")
    try:
        sessions = make_session_factory(engine)
        async with sessions() as session:
            await session.begin()
            await flows.on_voucher_awarded(
                dependencies(sessions), session, award
            )  # recorded and unparked, not committed
            waiting = asyncio.create_task(c.deliver(message(enrolment)))
            await asyncio.sleep(0.5)
            assert not waiting.done()  # it waits for the award instead of parking behind its back
            await session.commit()
        assert await asyncio.wait_for(waiting, 30) is Outcome.APPLIED
    finally:
        await engine.dispose()

    assert await value(url, "SELECT count(*) FROM parked_event") == 0
    holds = await fetch(url, "SELECT status FROM hold WHERE enrolment_id = $1", enrolment.enrolment_id)
    assert [h["status"] for h in holds] == ["open"]
    assert await ledger_findings(url) == []
