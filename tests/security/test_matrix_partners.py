"""Partners' authorisation matrix: a partner's subscriptions, deliveries and dead letters are its own service
account's (the token's sub); every other role is refused. Another partner's token gets 404 on each of these ids:
services/partners/tests/component/test_webhooks.py, ``test_another_partners_ids_are_404``."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from partners.service_layer.deliveries import deliver_due
from qosym_cli.ports import free_port
from qosym_contracts.allocation import RoundOpenedV1
from tests.security.matrix import Case, Entry, World, check, coverage_problems, open_world

pytestmark = pytest.mark.component


@pytest.fixture(scope="module")
async def world(stack_servers, service_template, jwks_url) -> AsyncIterator[World]:
    async with open_world("partners", stack_servers, service_template, jwks_url, webhook_max_attempts=1) as w:
        yield w


async def dead_letter(w: World) -> Case:
    """A partner's subscription to an endpoint nothing listens on, and the dead letter of one event."""
    owner = w.tokens.headers("partner", f"svc-{uuid.uuid4().hex[:12]}")
    made = await w.client.post(
        "/v1/webhooks/subscriptions",
        json={"url": f"http://127.0.0.1:{free_port(set())}/down", "event_types": ["allocation.RoundOpened"]},
        headers=owner,
    )
    assert made.status_code == 201, made.text
    now = datetime.now(UTC)
    await w.deliver(
        RoundOpenedV1(
            round_id=uuid.uuid4(),
            region_code="astana",
            application_opens_at=now,
            application_closes_at=now,
            reference_date=now.date(),
            seed_sha256="0" * 64,
        )
    )
    await deliver_due(w.app.state.partners.deps)
    sid = made.json()["subscription_id"]
    [row] = (await w.client.get("/v1/webhooks/dead-letters", params={"subscription_id": sid}, headers=owner)).json()[
        "items"
    ]
    return Case(
        path={"subscription_id": sid, "delivery_id": row["delivery_id"]},
        query={"subscription_id": sid},
        owners={"partner": owner},
        marker=row["delivery_id"],
    )


async def subscription(w: World) -> Case:
    case = await dead_letter(w)
    return Case(path={"subscription_id": case.path["subscription_id"]}, owners=case.owners)


async def one_delivery(w: World) -> Case:
    case = await dead_letter(w)
    return Case(path={"delivery_id": case.path["delivery_id"]}, owners=case.owners)


ENTRIES = [
    Entry("GET", "/v1/webhooks/subscriptions/{subscription_id}", subscription, owners=("partner",)),
    Entry("DELETE", "/v1/webhooks/subscriptions/{subscription_id}", subscription, owners=("partner",)),
    Entry("GET", "/v1/webhooks/deliveries", dead_letter, owners=("partner",), listing=True),
    Entry("GET", "/v1/webhooks/dead-letters", dead_letter, owners=("partner",), listing=True),
    Entry("GET", "/v1/webhooks/deliveries/{delivery_id}", one_delivery, owners=("partner",)),
    Entry("POST", "/v1/webhooks/deliveries/{delivery_id}/replay", one_delivery, owners=("partner",)),
]


async def test_every_operation_with_an_id_has_a_matrix_entry(world: World) -> None:
    assert coverage_problems(world.openapi, ENTRIES, []) == []


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
async def test_foreign_roles_are_refused_and_owners_succeed(world: World, entry: Entry) -> None:
    await check(world, entry)
