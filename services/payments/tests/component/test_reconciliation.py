"""Reconciliation against real HTTP peers (allocation and attendance served by uvicorn from recorded pages),
through the API and through ``qosym payments reconcile`` against the payments API served over HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import uuid4

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from typer.testing import CliRunner

from qosym_cli.main import app as cli
from tests.support.events import message, region_event

from .support import (
    MONTHLY,
    MONTHS,
    attendance_confirmed,
    bearer,
    enrolment_confirmed,
    provider_verified,
    round_opened,
    voucher_awarded,
)

pytestmark = pytest.mark.component
OPERATOR_SCOPE = {"region": "astana"}  # an operator's token always names its region


@contextmanager
def served(app: Any) -> Iterator[str]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)


class Peers:
    """Allocation's and attendance's pages as recorded, served over HTTP; remembers the tokens it saw."""

    def __init__(self) -> None:
        self.vouchers: dict[str, list[dict[str, Any]]] = {}
        self.timesheets: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.tokens: set[str] = set()

    def _page(self, request: Request, items: list[dict[str, Any]]) -> JSONResponse:
        self.tokens.add(request.headers.get("authorization", ""))
        limit, offset = int(request.query_params["limit"]), int(request.query_params["offset"])
        return JSONResponse(
            {"items": items[offset : offset + limit], "total": len(items), "limit": limit, "offset": offset}
        )

    async def vouchers_of(self, request: Request) -> JSONResponse:
        return self._page(request, self.vouchers.get(request.path_params["round_id"], []))

    async def payable(self, request: Request) -> JSONResponse:
        key = (request.query_params["region_code"], request.query_params["period"])
        return self._page(request, self.timesheets.get(key, []))

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/rounds/{round_id}/vouchers", self.vouchers_of),
                Route("/v1/timesheets/payable", self.payable),
            ]
        )


def voucher_page_item(award) -> dict[str, Any]:
    return {
        "voucher_id": str(award.voucher_id),
        "round_id": str(award.round_id),
        "child_id": str(award.child_id),
        "direction": award.direction,
        "monthly_value_tiyn": award.monthly_value_tiyn,
        "months": award.months,
        "valid_until": award.valid_until.isoformat(),
        "assign_by": None,
        "status": "assigned",
        "reassignable_until": None,
    }


def timesheet_page_item(confirmed) -> dict[str, Any]:
    return {
        "timesheet_id": str(confirmed.timesheet_id),
        "enrolment_id": str(confirmed.enrolment_id),
        "provider_id": str(confirmed.provider_id),
        "child_id": str(confirmed.child_id),
        "region_code": confirmed.region_code,
        "period": confirmed.period,
        "planned_sessions": confirmed.planned_sessions,
        "payable_sessions": confirmed.payable_sessions,
        "basis": "guardian_confirmed",
    }


async def a_paid_month(service_db, consumer, peers: Peers, children: int = 3) -> str:
    """A round, vouchers, enrolments and a confirmed November; the peers record the same facts."""
    url = await service_db("payments")
    c = await consumer("payments", url)
    opened = round_opened(children * MONTHLY * MONTHS)
    provider = provider_verified()
    for event in (region_event(), opened, provider):
        await c.deliver(message(event))
    for n in range(children):
        award = voucher_awarded(opened.round_id)
        enrolment = enrolment_confirmed(award, provider.provider_id)
        confirmed = attendance_confirmed(enrolment, payable=9 - n % 10, planned=9)
        for event in (award, enrolment, confirmed):
            await c.deliver(message(event))
        peers.vouchers.setdefault(str(opened.round_id), []).append(voucher_page_item(award))
        peers.timesheets.setdefault(("astana", "2026-11"), []).append(timesheet_page_item(confirmed))
    return url


async def test_matching_services_reconcile_with_zero_findings(service_db, consumer, api_client, token) -> None:
    peers = Peers()
    url = await a_paid_month(service_db, consumer, peers, children=130)  # more than one page of each peer
    auditor = token("auditor")
    with served(peers.app()) as peer_url:
        async with api_client("payments", url, allocation_url=peer_url, attendance_url=peer_url) as client:
            response = await client.get("/v1/reconciliation", headers=bearer(auditor))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["findings"] == []
    assert report["periods"] == ["2026-11"]
    assert "vouchers_match_allocation" in report["checks"] and "accruals_match_attendance" in report["checks"]
    assert peers.tokens == {f"Bearer {auditor}"}  # the caller's token, forwarded


async def test_every_difference_is_a_finding(service_db, consumer, api_client, token) -> None:
    peers = Peers()
    url = await a_paid_month(service_db, consumer, peers)
    [round_id] = peers.vouchers
    unknown = {**peers.vouchers[round_id][0], "voucher_id": str(uuid4())}
    peers.vouchers[round_id].append(unknown)
    peers.vouchers[round_id][1] = {**peers.vouchers[round_id][1], "months": 8}
    sheets = peers.timesheets[("astana", "2026-11")]
    sheets[0] = {**sheets[0], "payable_sessions": 1}
    dropped = sheets.pop(1)
    extra = {**sheets[0], "enrolment_id": str(uuid4()), "timesheet_id": str(uuid4())}
    sheets.append(extra)
    with served(peers.app()) as peer_url:
        async with api_client("payments", url, allocation_url=peer_url, attendance_url=peer_url) as client:
            report = (
                await client.get("/v1/reconciliation?region_code=astana", headers=bearer(token("auditor")))
            ).json()
    details = {(f["check"], f["subject"].split()[0]): f["detail"] for f in report["findings"]}
    assert len(report["findings"]) == 5, report["findings"]
    assert "unknown to payments" in details[("vouchers_match_allocation", unknown["voucher_id"])]
    assert "× 8" in details[("vouchers_match_allocation", peers.vouchers[round_id][1]["voucher_id"])]
    assert "1/9" in details[("accruals_match_attendance", sheets[0]["enrolment_id"])]
    assert "no confirmed timesheet" in details[("accruals_match_attendance", dropped["enrolment_id"])]
    assert "no posted accrual" in details[("accruals_match_attendance", extra["enrolment_id"])]
    # the last run's findings per check are a gauge for the dashboard and the alert (deploy/observability)
    async with api_client("payments", url, allocation_url=peer_url, attendance_url=peer_url) as client:
        scraped = (await client.get("/metrics/")).text
    assert 'qosym_reconciliation_findings{check="accruals_match_attendance"} 3.0' in scraped
    assert 'qosym_reconciliation_findings{check="vouchers_match_allocation"} 2.0' in scraped
    assert 'qosym_reconciliation_findings{check="ledger_sums_to_zero"} 0.0' in scraped


async def test_an_unreachable_peer_is_a_finding_not_an_error(service_db, consumer, api_client, token) -> None:
    url = await a_paid_month(service_db, consumer, Peers(), children=1)
    async with api_client(
        "payments", url, allocation_url="http://127.0.0.1:9", attendance_url="http://127.0.0.1:9"
    ) as c:
        response = await c.get("/v1/reconciliation", headers=bearer(token("auditor")))
    assert response.status_code == 200
    assert {f["check"] for f in response.json()["findings"]} == {
        "vouchers_match_allocation",
        "accruals_match_attendance",
    }
    assert all("could not read" in f["detail"] for f in response.json()["findings"])


async def test_a_refused_funding_and_a_parked_event_are_findings(service_db, consumer, api_client, token) -> None:
    url = await service_db("payments")
    c = await consumer("payments", url)
    opened = round_opened(MONTHLY * MONTHS)
    award, refused = voucher_awarded(opened.round_id), voucher_awarded(opened.round_id)
    orphan = attendance_confirmed(enrolment_confirmed(award, uuid4()))
    for event in (region_event(), opened, award, refused, orphan):
        await c.deliver(message(event))
    peers = Peers()
    peers.vouchers[str(opened.round_id)] = [voucher_page_item(award), voucher_page_item(refused)]
    with served(peers.app()) as peer_url:
        async with api_client("payments", url, allocation_url=peer_url, attendance_url=peer_url) as client:
            report = (await client.get("/v1/reconciliation", headers=bearer(token("auditor")))).json()
    assert sorted(f["check"] for f in report["findings"]) == ["no_event_parked", "no_funding_refused"]


async def test_an_award_allocation_does_not_know_is_named_as_funded_or_refused(
    service_db, consumer, api_client, token
) -> None:
    url = await service_db("payments")
    c = await consumer("payments", url)
    opened = round_opened(MONTHLY * MONTHS)
    funded, refused = voucher_awarded(opened.round_id), voucher_awarded(opened.round_id)
    for event in (region_event(), opened, funded, refused):
        await c.deliver(message(event))
    peers = Peers()
    peers.vouchers[str(opened.round_id)] = []  # allocation awarded neither
    with served(peers.app()) as peer_url:
        async with api_client("payments", url, allocation_url=peer_url, attendance_url=peer_url) as client:
            report = (await client.get("/v1/reconciliation", headers=bearer(token("auditor")))).json()
    details = {f["subject"]: f["detail"] for f in report["findings"] if f["check"] == "vouchers_match_allocation"}
    assert details == {
        str(funded.voucher_id): "funded by payments, not awarded by allocation",
        str(refused.voucher_id): "refused by payments, not awarded by allocation",
    }


@pytest.mark.parametrize("role", ["parent", "operator", "provider_staff", "partner"])
async def test_reconciliation_is_for_auditors_administrators_and_ops(service_db, api_client, token, role) -> None:
    url = await service_db("payments")
    async with api_client("payments", url) as client:
        response = await client.get(
            "/v1/reconciliation", headers=bearer(token(role, scope=OPERATOR_SCOPE if role == "operator" else None))
        )
    assert response.status_code == 403


async def test_the_cli_reconciles_through_the_payments_api(
    service_db, consumer, stack_servers, stack_home, jwks_url
) -> None:
    from payments.config import PaymentsSettings
    from payments.entrypoints.api import create_app

    peers = Peers()
    url = await a_paid_month(service_db, consumer, peers)
    runner = CliRunner()
    with served(peers.app()) as peer_url:
        settings = PaymentsSettings(
            database_url=url,
            kafka_bootstrap_servers=stack_servers.state.kafka_bootstrap_servers,
            redis_url=stack_servers.state.redis_url,
            jwks_url=jwks_url,
            dev_mode=True,
            allocation_url=peer_url,
            attendance_url=peer_url,
        )
        with served(create_app(settings)) as payments_url:
            clean = runner.invoke(cli, ["payments", "reconcile", "--url", payments_url, "--home", str(stack_home)])
            peers.timesheets[("astana", "2026-11")].pop()
            dirty = runner.invoke(
                cli, ["payments", "reconcile", "--url", payments_url, "--home", str(stack_home), "--region", "astana"]
            )
    assert clean.exit_code == 0, clean.output
    assert "0 findings" in clean.output
    assert dirty.exit_code == 1
    assert "1 findings" in dirty.output and "no confirmed timesheet" in dirty.output
