"""The family budget read by a guardian and by the provider's staff, from events fed through payments' consumer."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import httpx
import pytest

from qosym_contracts.registry import GuardianshipEndedV1, GuardianshipEstablishedV1
from services.payments.tests.component.support import (
    MONTHLY,
    MONTHS,
    FixedClock,
    attendance_confirmed,
    bearer,
    enrolled,
    enrolment_confirmed,
    round_opened,
    voucher_awarded,
)
from tests.support.events import child_registered, message, region_event

pytestmark = pytest.mark.component
DECEMBER = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
ABOVE, BELOW = 2_000_000, 1_200_000  # a programme priced above the voucher (15,000 ₸), one below it
REMAINING = 6  # December … May (the vouchers are valid until 2027-05-31)


def pinned(client: httpx.AsyncClient, at: datetime) -> None:
    """Run the app's use cases at a chosen instant (its bootstrapped dependencies with a fixed clock)."""
    app: Any = client._transport.app  # type: ignore[attr-defined]  # the ASGI app under test
    payments = app.state.payments
    app.state.payments = replace(payments, deps=replace(payments.deps, clock=FixedClock(at=at)))


async def family(service_db, consumer):
    """A guardian with two children: one in a programme above the voucher (November 7 of 9 sessions confirmed),
    one below it at the same provider (9 of 9)."""
    url = await service_db("payments")
    c = await consumer("payments", url)
    opened = round_opened(10 * MONTHLY * MONTHS)
    for event in (region_event(), opened):
        await c.deliver(message(event))
    award, provider, first = await enrolled(c, opened.round_id, price_per_month_tiyn=ABOVE)
    second_award = voucher_awarded(opened.round_id)
    second = enrolment_confirmed(second_award, provider.provider_id, price_per_month_tiyn=BELOW)
    guardian = uuid4()
    for event in (
        second_award,
        second,
        child_registered(guardian, child_id=award.child_id),
        GuardianshipEstablishedV1(child_id=second_award.child_id, guardian_id=guardian),
        attendance_confirmed(first, payable=7, planned=9),
        attendance_confirmed(second, payable=9, planned=9),
    ):
        await c.deliver(message(event))
    return url, c, guardian, provider.provider_id, first, second


def line(period: str, price: int, accrued: int | None, payable: int | None, planned: int | None) -> dict[str, Any]:
    covered = min(price, MONTHLY)
    return {
        "period": period,
        "monthly_value_tiyn": MONTHLY,
        "price_per_month_tiyn": price,
        "covered_tiyn": covered,
        "co_payment_tiyn": price - covered,
        "accrued_tiyn": accrued,
        "payable_sessions": payable,
        "planned_sessions": planned,
    }


async def test_a_guardian_sees_the_co_payment_history_and_the_years_projection_for_two_children(
    service_db, consumer, api_client, token
) -> None:
    url, _, guardian, provider_id, first, second = await family(service_db, consumer)
    async with api_client("payments", url) as client:
        pinned(client, DECEMBER)
        response = await client.get("/v1/families/me/budget", headers=bearer(token("parent", str(guardian))))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["guardian_id"] == str(guardian) and body["period"] == "2026-12"
    enrolments = {e["enrolment_id"]: e for child in body["children"] for e in child["enrolments"]}
    assert {c["child_id"] for c in body["children"]} == {str(first.child_id), str(second.child_id)}

    above = enrolments[str(first.enrolment_id)]
    assert (above["covered_tiyn"], above["co_payment_tiyn"]) == (MONTHLY, ABOVE - MONTHLY)
    # the accrual is the ledger's: min(floor(price × 7 / 9), monthly value, held) = the monthly value here
    assert above["history"] == [line("2026-11", ABOVE, MONTHLY, 7, 9)]
    assert above["current"] == line("2026-12", ABOVE, None, None, None)
    assert above["projection"] == {
        "months": REMAINING,
        "covered_tiyn": REMAINING * MONTHLY,
        "co_payment_tiyn": REMAINING * (ABOVE - MONTHLY),
        "total_tiyn": REMAINING * ABOVE,
    }

    below = enrolments[str(second.enrolment_id)]
    assert (below["covered_tiyn"], below["co_payment_tiyn"]) == (BELOW, 0)
    assert below["history"] == [line("2026-11", BELOW, BELOW, 9, 9)]
    assert below["provider_id"] == str(provider_id)

    assert body["projection"] == {
        "months": 2 * REMAINING,
        "covered_tiyn": REMAINING * (MONTHLY + BELOW),
        "co_payment_tiyn": REMAINING * (ABOVE - MONTHLY),
        "total_tiyn": REMAINING * (ABOVE + BELOW),
    }


async def test_the_provider_sees_the_same_split_and_nobody_else_sees_this_family(
    service_db, consumer, api_client, token
) -> None:
    url, _, guardian, provider_id, first, second = await family(service_db, consumer)
    path = f"/v1/providers/{provider_id}/enrolments/budget"
    async with api_client("payments", url) as client:
        pinned(client, DECEMBER)
        mine = (await client.get("/v1/families/me/budget", headers=bearer(token("parent", str(guardian))))).json()
        own = await client.get(path, headers=bearer(token("provider_staff", scope={"provider": str(provider_id)})))
        stranger = await client.get("/v1/families/me/budget", headers=bearer(token("parent", str(uuid4()))))
        other_staff = await client.get(path, headers=bearer(token("provider_staff", scope={"provider": str(uuid4())})))
        parent_on_provider = await client.get(path, headers=bearer(token("parent", str(guardian))))

    assert own.status_code == 200, own.text
    by_family = {e["enrolment_id"]: e for child in mine["children"] for e in child["enrolments"]}
    by_provider = {e["enrolment_id"]: e for e in own.json()["enrolments"]}
    assert set(by_provider) == {str(first.enrolment_id), str(second.enrolment_id)}
    assert by_provider == by_family  # one rule, one set of figures, for both readers

    assert stranger.status_code == 200
    assert stranger.json()["children"] == []
    assert stranger.json()["projection"]["total_tiyn"] == 0
    assert other_staff.status_code == 404
    assert parent_on_provider.status_code == 403


async def test_a_guardianship_ended_takes_the_child_out_of_the_family_budget(
    service_db, consumer, api_client, token
) -> None:
    url, c, guardian, _, first, second = await family(service_db, consumer)
    await c.deliver(message(GuardianshipEndedV1(child_id=second.child_id, guardian_id=guardian)))
    async with api_client("payments", url) as client:
        pinned(client, DECEMBER)
        body = (await client.get("/v1/families/me/budget", headers=bearer(token("parent", str(guardian))))).json()

    assert [child["child_id"] for child in body["children"]] == [str(first.child_id)]
    assert body["projection"]["months"] == REMAINING
