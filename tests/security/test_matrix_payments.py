"""Payments' authorisation matrix: budgets, batches and the payment order are administrators' (auditors read
them), a provider's accruals, statement and payments its own staff's; parents and operators reach none of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from itertools import count
from uuid import uuid4

import pytest

from services.payments.tests.component.support import (
    MONTHLY,
    MONTHS,
    attendance_confirmed,
    enrolment_confirmed,
    provider_verified,
    round_opened,
    voucher_awarded,
)
from tests.security.matrix import Case, Entry, Public, World, check, coverage_problems, open_world
from tests.support.events import region_event

# staff accounts by id (payments records makers and checkers by the token's subject, a staff account id)
ADMIN_CHECKER, ADMIN_MAKER, ADMIN_SECOND = (str(uuid4()) for _ in range(3))

pytestmark = pytest.mark.component
# each batch is a region's month: every batch a factory prepares gets a month of its own
PERIODS = ["2026-11", "2026-12"] + [f"2027-{m:02d}" for m in range(1, 13)]  # the voucher is valid until 2027-12-31
_periods = count()


@pytest.fixture(scope="module")
async def world(stack_servers, service_template, jwks_url) -> AsyncIterator[World]:
    async with open_world("payments", stack_servers, service_template, jwks_url) as w:
        opened = round_opened(100 * MONTHLY * MONTHS)
        await w.deliver(region_event(region_code="astana"), region_event(region_code="almaty"), opened)
        award = voucher_awarded(opened.round_id, valid_until=date(2027, 12, 31))
        provider = provider_verified()
        enrolment = enrolment_confirmed(award, provider.provider_id)
        await w.deliver(award, provider, enrolment)
        w.state.update(round=opened, provider=provider, enrolment=enrolment)
        yield w


def admins(w: World) -> dict[str, dict[str, str]]:
    return {"administrator": w.tokens.headers("administrator", ADMIN_CHECKER)}


async def accrued(w: World) -> str:
    """A month of attendance confirmed for the world's enrolment: the month's accrual (a period no batch has)."""
    period = PERIODS[next(_periods)]
    await w.deliver(attendance_confirmed(w.state["enrolment"], period=period))
    return period


async def prepared(w: World) -> str:
    period = await accrued(w)
    response = await w.client.post(
        "/v1/batches",
        json={"region_code": "astana", "period": period},
        headers=w.tokens.headers("administrator", ADMIN_MAKER),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["batch_id"])


async def approved(w: World) -> str:
    batch_id = await prepared(w)
    response = await w.client.post(
        f"/v1/batches/{batch_id}/approve", headers=w.tokens.headers("administrator", ADMIN_SECOND)
    )
    assert response.status_code == 200, response.text
    return batch_id


# --- factories ----------------------------------------------------------------------------------------------


async def region(w: World) -> Case:
    return Case(path={"code": "astana"}, owners=admins(w))


async def round_(w: World) -> Case:
    return Case(path={"round_id": w.state["round"].round_id}, owners=admins(w))


async def batch(w: World) -> Case:
    return Case(path={"batch_id": await prepared(w)}, owners=admins(w))


async def approved_batch(w: World) -> Case:
    return Case(
        path={"batch_id": await approved(w)},
        owners={**admins(w), "partner": w.tokens.headers("partner")},
        body={"treasury_reference": f"TRS-{uuid4().hex[:8]}", "paid_at": "2027-06-02T10:15:00+05:00"},
    )


async def batches(w: World) -> Case:
    batch_id = await prepared(w)
    return Case(path={}, query={"region_code": "astana"}, owners=admins(w), marker=batch_id)


async def new_batch(w: World) -> Case:
    return Case(path={}, owners=admins(w), body={"region_code": "astana", "period": await accrued(w)}, expect=201)


async def provider(w: World) -> Case:
    provider_id = w.state["provider"].provider_id
    return Case(
        path={"provider_id": provider_id},
        owners={"own_staff": w.tokens.staff(provider_id), **admins(w)},
    )


async def audit_entries(w: World) -> Case:
    """The audit trail's rows of a batch just prepared: an auditor's and an administrator's, nobody else's."""
    batch_id = await prepared(w)
    return Case(
        path={},
        query={"entity": "payment_batch", "entity_id": batch_id},
        owners={**admins(w), "auditor": w.tokens.headers("auditor")},
        marker=batch_id,
    )


async def reconciliation(w: World) -> Case:
    return Case(path={}, query={"region_code": "astana"}, owners={})


# --- the matrix ---------------------------------------------------------------------------------------------

ADMIN = ("administrator",)
ENTRIES = [
    Entry("GET", "/v1/regions/{code}/budget", region, owners=ADMIN),
    Entry("GET", "/v1/regions/{code}/burn", region, owners=ADMIN),
    Entry("GET", "/v1/rounds/{round_id}/budget", round_, owners=ADMIN),
    Entry("GET", "/v1/rounds/{round_id}/funding-refusals", round_, owners=ADMIN),
    Entry("POST", "/v1/batches", new_batch, owners=ADMIN, note="the region in the body"),
    Entry("GET", "/v1/batches", batches, owners=ADMIN, listing=True),
    Entry("GET", "/v1/batches/{batch_id}", batch, owners=ADMIN),
    Entry("POST", "/v1/batches/{batch_id}/approve", batch, owners=ADMIN),
    Entry("POST", "/v1/batches/{batch_id}/cancel", batch, owners=ADMIN),
    Entry("GET", "/v1/batches/{batch_id}/payment-order", approved_batch, owners=("administrator", "partner")),
    Entry("POST", "/v1/batches/{batch_id}/treasury-confirmation", approved_batch, owners=("administrator", "partner")),
    Entry("GET", "/v1/providers/{provider_id}/accruals", provider, owners=("own_staff", "administrator")),
    Entry("GET", "/v1/providers/{provider_id}/statement", provider, owners=("own_staff", "administrator")),
    Entry("GET", "/v1/providers/{provider_id}/payments", provider, owners=("own_staff", "administrator")),
    Entry(
        "GET",
        "/v1/providers/{provider_id}/enrolments/budget",
        provider,
        owners=("own_staff", "administrator"),
        note="the family's side (/v1/families/me/budget) takes no id: a parent reads their own children only",
    ),
    Entry(
        "GET",
        "/v1/reconciliation",
        reconciliation,
        owners=(),
        note="the owner's run needs allocation and attendance: services/payments/tests/component/test_reconciliation.py",
    ),
    Entry(
        "GET",
        "/v1/audit/entries",
        audit_entries,
        owners=("administrator", "auditor"),
        refusals=(403,),
        note="the chassis's audit reader: parents, provider staff, operators and partners get 403",
    ),
]
PUBLIC: list[Public] = []


async def test_every_operation_with_an_id_has_a_matrix_entry(world: World) -> None:
    assert coverage_problems(world.openapi, ENTRIES, PUBLIC) == []


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
async def test_foreign_roles_are_refused_and_owners_succeed(world: World, entry: Entry) -> None:
    await check(world, entry)
