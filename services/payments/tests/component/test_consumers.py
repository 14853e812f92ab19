import asyncpg
import pytest

from qosym_chassis.consumer import Outcome
from tests.support.events import message, region_event

pytestmark = pytest.mark.component


async def budgets(url: str) -> list[tuple[str, int, int, str, int]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT region_code, revision, budget_tiyn, voucher_monthly_value_tiyn::text, voucher_months"
            " FROM region_budget ORDER BY region_code"
        )
    finally:
        await conn.close()
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_a_configured_region_is_projected_with_its_money_terms(service_db, consumer) -> None:
    url = await service_db("payments")
    c = await consumer("payments", url)

    assert await c.deliver(message(region_event())) is Outcome.APPLIED

    assert await budgets(url) == [
        ("astana", 1, 250_000_000_000, '{"sports": 1500000, "creativity": 1200000}', 9),
    ]


async def test_a_redelivered_event_changes_nothing(service_db, consumer) -> None:
    url = await service_db("payments")
    c = await consumer("payments", url)
    event = region_event()
    await c.deliver(message(event))

    assert await c.deliver(message(event)) is Outcome.DUPLICATE
    assert len(await budgets(url)) == 1


async def test_a_newer_revision_updates_the_budget(service_db, consumer) -> None:
    url = await service_db("payments")
    c = await consumer("payments", url)
    await c.deliver(message(region_event(revision=1)))

    await c.deliver(message(region_event(revision=2, budget_tiyn=300_000_000_000, voucher_months=10)))

    [(_, revision, budget, _, months)] = await budgets(url)
    assert (revision, budget, months) == (2, 300_000_000_000, 10)


async def test_an_older_revision_never_overwrites_a_newer_one(service_db, consumer) -> None:
    url = await service_db("payments")
    c = await consumer("payments", url)
    await c.deliver(message(region_event(revision=5, budget_tiyn=100)))

    await c.deliver(message(region_event(revision=4, budget_tiyn=999)))

    [(_, revision, budget, _, _)] = await budgets(url)
    assert (revision, budget) == (5, 100)


async def test_money_terms_that_cannot_be_right_are_dead_lettered(service_db, consumer) -> None:
    url = await service_db("payments")
    c = await consumer("payments", url)

    outcome = await c.deliver(message(region_event(voucher_monthly_value_tiyn={"sports": 0, "creativity": 1})))

    assert outcome is Outcome.DEAD_LETTERED
    assert await budgets(url) == []
