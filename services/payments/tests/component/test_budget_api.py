"""Budget watch: a round's money, its burn and forecast, thresholds published once."""

from __future__ import annotations

from uuid import uuid4

import pytest

from tests.support.events import message, region_event

from .support import (
    MONTHLY,
    MONTHS,
    attendance_confirmed,
    bearer,
    enrolment_confirmed,
    outbox,
    provider_verified,
    revoked,
    round_opened,
    voucher_awarded,
)

pytestmark = pytest.mark.component
VOUCHER = MONTHLY * MONTHS


async def test_a_rounds_budget_burn_and_forecast(service_db, consumer, api_client, token) -> None:
    url = await service_db("payments")
    c = await consumer("payments", url)
    opened = round_opened(4 * VOUCHER)
    provider = provider_verified()
    for event in (region_event(), opened, provider):
        await c.deliver(message(event))
    awards = [voucher_awarded(opened.round_id) for _ in range(3)]  # valid until 2027-05-31
    for award in awards:
        await c.deliver(message(award))
        enrolment = enrolment_confirmed(award, provider.provider_id)
        await c.deliver(message(enrolment))
        await c.deliver(message(attendance_confirmed(enrolment, payable=9, planned=9, period="2026-11")))
    await c.deliver(message(voucher_awarded(opened.round_id, months=MONTHS * 2)))  # beyond the budget: refused

    async with api_client("payments", url) as client:
        response = await client.get(f"/v1/rounds/{opened.round_id}/budget", headers=bearer(token("auditor")))
        refusals = await client.get(
            f"/v1/rounds/{opened.round_id}/funding-refusals", headers=bearer(token("administrator"))
        )
        region = await client.get("/v1/regions/astana/burn", headers=bearer(token("administrator")))
        forbidden = await client.get(f"/v1/rounds/{opened.round_id}/budget", headers=bearer(token("provider_staff")))
        missing = await client.get(f"/v1/rounds/{uuid4()}/budget", headers=bearer(token("auditor")))

    assert response.status_code == 200, response.text
    burn = response.json()
    spent = 3 * 1_200_000
    assert burn == {
        "round_id": str(opened.round_id),
        "region_code": "astana",
        "budget_tiyn": 4 * VOUCHER,
        "available_tiyn": VOUCHER,
        "committed_tiyn": 3 * VOUCHER,
        "held_tiyn": 0,
        "spent_tiyn": spent,
        "vouchers_funded": 3,
        "vouchers_refused": 1,
        "latest_period": "2026-11",
        "burn_per_month_tiyn": spent,
        "school_year_ends": "2027-05",
        "forecast_tiyn": spent + spent * 6,  # December to May at November's burn
        "thresholds_reached": [50, 75],
    }
    assert refusals.json()["total"] == 1
    assert [r["requested_tiyn"] for r in refusals.json()["items"]] == [2 * VOUCHER]
    assert region.json()["spent_tiyn"] == spent and len(region.json()["rounds"]) == 1
    assert (forbidden.status_code, missing.status_code) == (403, 404)


async def test_each_threshold_is_published_once_per_round(service_db, consumer) -> None:
    url = await service_db("payments")
    c = await consumer("payments", url)
    opened = round_opened(4 * VOUCHER)
    for event in (region_event(), opened):
        await c.deliver(message(event))
    first, second = voucher_awarded(opened.round_id), voucher_awarded(opened.round_id)
    await c.deliver(message(first))
    await c.deliver(message(second))  # 50 %
    await c.deliver(message(revoked(second)))  # back to 25 %: no event
    await c.deliver(message(voucher_awarded(opened.round_id)))  # 50 % again: not published twice
    await c.deliver(message(voucher_awarded(opened.round_id)))  # 75 %

    reached = await outbox(url, "payments.BudgetThresholdReached")
    assert [(e["threshold_percent"], e["committed_tiyn"]) for e in reached] == [(50, 2 * VOUCHER), (75, 3 * VOUCHER)]
    assert all(e["budget_tiyn"] == 4 * VOUCHER for e in reached)
