"""The payments issue's done-when journey, tried as a new user would on ``qosym up``.

A month paid: in a region of its own, a family wins two vouchers; a verified provider runs two every-day groups, one
priced at an odd 12,345.67 ₸ (the floor to the tiyn shows) and one far above the voucher (its monthly value caps the
month); a child is enrolled in each. Payments' consumers run armed to crash at the first event they apply, after its
writes and before its commit. Attendance's API is run "next month": the provider marks and submits the month, the
parent confirms both children; payments dies mid-transfer and comes back. The provider then sees exactly one accrual
per child, of the amount the published rule gives for the confirmed sessions; administrator A prepares the batch and
cannot approve it, administrator B does; the pain.001 file validates against the ISO 20022 schema, its hash is the
recorded one and it pays the provider's IBAN; the treasury's statement marks it paid (ProviderPaid, the provider sees
the payment; importing it again changes nothing); ``qosym payments reconcile`` finds nothing. The same
AttendanceConfirmed delivered again, and the same month under a new event id, change nothing.

Over the budget: in another region, a round whose budget funds two vouchers for four applicants awards exactly two,
and payments funds exactly those; a VoucherAwarded payments cannot fund is refused whole (VoucherFundingRefused, the
refusal listed by the API and reconciliation), and the ledger is unchanged.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
import pytest
import xmlschema
from prometheus_client.parser import text_string_to_metric_families

from qosym_cli.stack import LocalStack
from qosym_contracts.allocation import VoucherAwardedV1
from tests.support.journeys import (
    award_vouchers,
    bearer,
    configure_region,
    enrol,
    new_family,
    next_month_at,
    publish_programme,
    verified_provider,
)
from tests.support.stack_ops import crashes_once, db_value, produce, shifted_clock, topic_records
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e
ZONE = ZoneInfo("Asia/Almaty")
EVERY_DAY = [{"weekday": d, "start": "16:00", "end": "17:00"} for d in range(1, 8)]
EVERY_EVENING = [{"weekday": d, "start": "18:00", "end": "19:00"} for d in range(1, 8)]
TIMESHEETS = "attendance.timesheet.v1"
CONFIRMED = "attendance.AttendanceConfirmed"
PROVIDER_IBAN = "KZ86125KZT5004100100"  # the bank details verified_provider registers
PAIN001 = importlib.resources.files("sepaxml") / "schemas" / "pain.001.001.09.xsd"


def qosym(stack: LocalStack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qosym_cli.main", *args, "--home", str(stack.home)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "300"},
    )


def rule(price: int, payable: int, planned: int, monthly_value: int) -> int:
    """The published accrual rule, written out here independently of payments' code."""
    if planned == 0:
        return 0
    return min(price * min(payable, planned) // planned, monthly_value)


def tenge(tiyn: int) -> Decimal:
    return Decimal(tiyn) / 100


def duplicates_seen(stack: LocalStack) -> float:
    """Payments' consumers' own count of deliveries they recognised as already applied (Prometheus)."""
    port = stack.reload().process("payments", "consumers").port
    text = httpx.get(f"http://127.0.0.1:{port}/metrics/", timeout=10).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if sample.name == "qosym_events_consumed_total" and labels == {"topic": TIMESHEETS, "outcome": "duplicate"}:
                return sample.value
    return 0.0


def test_a_confirmed_month_is_accrued_approved_paid_and_reconciled(running_stack, api, token, tmp_path) -> None:
    stack = running_stack
    region_code = f"payshire-{uuid.uuid4().hex[:6]}"
    region = configure_region(stack, token, region_code)
    monthly_value = region["voucher"]["monthly_value"]["sports"]
    family = new_family(stack, token, children=2, region=region_code)
    round_id = award_vouchers(stack, token, [family], region=region_code)
    provider = verified_provider(stack, token, region=region_code)
    odd = publish_programme(stack, provider, schedule=EVERY_DAY, sessions_per_month=30, price_per_month_tiyn=1_234_567)
    dear = publish_programme(
        stack, provider, schedule=EVERY_EVENING, sessions_per_month=30, price_per_month_tiyn=50_000_000
    )
    first, second = family.children
    enrolments = {
        enrol(stack, family, first, odd["id"])["id"]: odd["price_per_month_tiyn"],
        enrol(stack, family, second, dear["id"])["id"]: dear["price_per_month_tiyn"],
    }
    now = datetime.now(UTC)
    period = now.astimezone(ZONE).strftime("%Y-%m")
    maker = bearer(token("administrator", str(uuid.uuid4())))
    checker = bearer(token("administrator", str(uuid.uuid4())))
    treasury = bearer(token("partner", "treasury"))
    auditor = bearer(token("auditor"))
    stranger = bearer(token("provider_staff", scope={"provider": str(uuid.uuid4())}))
    payments, attendance = api("payments"), api("attendance")

    def round_budget() -> dict:
        return payments.get(f"/v1/rounds/{round_id}/budget", headers=maker).json()

    def accruals() -> list[dict]:
        response = payments.get(f"/v1/providers/{provider.id}/accruals?period={period}", headers=provider.headers)
        assert response.status_code == 200, response.text
        return response.json()["items"]

    def statement() -> dict:
        return payments.get(f"/v1/providers/{provider.id}/statement", headers=provider.headers).json()

    def group_size(programme_id: str) -> int:
        response = attendance.get(f"/v1/programmes/{programme_id}/timesheets/{period}", headers=provider.headers)
        return len(response.json()["enrolments"]) if response.status_code == 200 else 0

    # payments holds each child's month (the price, at most the voucher's monthly value); attendance knows the groups
    held = sum(min(price, monthly_value) for price in enrolments.values())
    eventually(lambda: round_budget().get("held_tiyn") == held, timeout_s=60)
    for programme in (odd, dear):
        eventually(lambda p=programme["id"]: group_size(p) == 1, timeout_s=60)

    # next month: the provider marks and submits, the parent confirms both; payments' consumer dies mid-transfer
    offset = int((next_month_at(now, ZONE) - datetime.now(UTC)).total_seconds())
    with (
        shifted_clock(stack, ("attendance",), roles=("api",), offset_s=offset),
        crashes_once(stack, "payments-consumers", "before_commit", tmp_path / "payments-crashed") as crash,
    ):
        for programme in (odd, dear):
            marked = attendance.put(
                f"/v1/programmes/{programme['id']}/timesheets/{period}/marks",
                json={"all_scheduled": "attended"},
                headers=provider.headers,
            )
            assert marked.status_code == 200, marked.text
        submitted = attendance.post(f"/v1/providers/{provider.id}/timesheets/{period}/submit", headers=provider.headers)
        assert submitted.status_code == 200, submitted.text
        assert (submitted.json()["submitted"], submitted.json()["incomplete_count"]) == (2, 0)
        months = attendance.get(f"/v1/timesheets?period={period}", headers=family.headers).json()["items"]
        assert len(months) == 2
        answered = attendance.post(
            "/v1/timesheets/confirm", json={"timesheet_ids": [m["id"] for m in months]}, headers=family.headers
        )
        assert answered.status_code == 200, answered.text

    # the provider sees one accrual per child, of the amount the rule gives for the confirmed sessions
    sheet_ids = {m["id"] for m in months}
    confirmations = eventually(
        lambda: (
            len(
                found := topic_records(
                    stack, TIMESHEETS, lambda e: e.get("event_type") == CONFIRMED and e.get("timesheet_id") in sheet_ids
                )
            )
            == 2
            and found
        ),
        timeout_s=60,
    )
    expected = {
        c.event["enrolment_id"]: rule(
            enrolments[c.event["enrolment_id"]],
            c.event["payable_sessions"],
            c.event["planned_sessions"],
            monthly_value,
        )
        for c in confirmations
    }
    assert set(expected) == set(enrolments)
    assert expected[next(e for e, p in enrolments.items() if p > monthly_value)] == monthly_value  # capped
    seen = eventually(lambda: len(found := accruals()) == 2 and found, timeout_s=90)
    assert {(a["enrolment_id"], a["amount_tiyn"], a["status"]) for a in seen} == {
        (enrolment_id, amount, "accrued") for enrolment_id, amount in expected.items()
    }
    assert {(a["enrolment_id"], a["payable_sessions"], a["planned_sessions"]) for a in seen} == {
        (c.event["enrolment_id"], c.event["payable_sessions"], c.event["planned_sessions"]) for c in confirmations
    }
    assert payments.get(f"/v1/providers/{provider.id}/accruals", headers=stranger).status_code == 404
    event_ids = [c.event["event_id"] for c in confirmations]
    assert (crash.event_type, crash.event_id in event_ids) == (CONFIRMED, True)  # it died applying one of them
    assert db_value(stack, "payments", "select count(*) from inbox where event_id = any($1::uuid[])", event_ids) == 2
    assert db_value(stack, "payments", "select count(*) from entry group by layer having sum(amount) <> 0") is None
    total = sum(expected.values())
    assert round_budget()["spent_tiyn"] == total

    # maker–checker: A prepares the month's batch and cannot approve it, B approves
    prepared = payments.post("/v1/batches", json={"region_code": region_code, "period": period}, headers=maker)
    assert prepared.status_code == 201, prepared.text
    batch = prepared.json()
    assert (batch["status"], batch["providers"], batch["total_tiyn"]) == ("prepared", 1, total)
    [item] = batch["items"]
    assert (item["provider_id"], item["amount_tiyn"], item["accruals"]) == (provider.id, total, 2)
    path = f"/v1/batches/{batch['batch_id']}"
    own = payments.post(f"{path}/approve", headers=maker)
    assert own.status_code == 403, own.text
    assert own.headers["content-type"].startswith("application/problem+json")
    assert "maker" in own.json()["detail"]
    assert payments.get(path, headers=maker).json()["status"] == "prepared"
    approved = payments.post(f"{path}/approve", headers=checker)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["approved_by"] != batch["prepared_by"]

    # the payment order validates against ISO 20022 pain.001.001.09 and is the file the approval recorded
    order = payments.get(f"{path}/payment-order", headers=auditor)
    assert order.status_code == 200, order.text
    schema = xmlschema.XMLSchema(str(PAIN001))
    schema.validate(order.content)
    digest = hashlib.sha256(order.content).hexdigest()
    assert digest == approved.json()["order_sha256"] == order.headers["x-content-sha256"]
    [announced] = eventually(
        lambda: topic_records(stack, "payments.batch.v1", lambda e: e.get("batch_id") == batch["batch_id"]),
        timeout_s=30,
    )
    assert announced.event["order_sha256"] == digest
    initiation = schema.to_dict(order.content)["CstmrCdtTrfInitn"]
    assert Decimal(str(initiation["GrpHdr"]["CtrlSum"])) == tenge(total)
    [payment] = initiation["PmtInf"]
    [transfer] = payment["CdtTrfTxInf"]
    assert transfer["CdtrAcct"]["Id"]["IBAN"] == PROVIDER_IBAN
    assert Decimal(str(transfer["Amt"]["InstdAmt"]["$"])) == tenge(total)
    assert transfer["Amt"]["InstdAmt"]["@Ccy"] == "KZT"
    assert transfer["PmtId"]["EndToEndId"] == item["end_to_end_id"]

    # the treasury's statement marks it paid; importing it again changes nothing
    booked = datetime.now(ZONE).replace(microsecond=0).isoformat()
    csv = f"end_to_end_id,amount,currency,reference,booked_at\n{item['end_to_end_id']},{tenge(total)},KZT,TRS-1,{booked}\n"
    text_csv = {**treasury, "Content-Type": "text/csv"}
    imported = payments.post("/v1/treasury/statements", content=csv, headers=text_csv)
    assert imported.status_code == 200, imported.text
    assert imported.json() == {"confirmed": 1, "already_confirmed": 0, "batches_paid": [batch["batch_id"]]}
    again = payments.post("/v1/treasury/statements", content=csv, headers=text_csv)
    assert again.json() == {"confirmed": 0, "already_confirmed": 1, "batches_paid": []}
    assert payments.get(path, headers=auditor).json()["status"] == "paid"
    [paid] = eventually(
        lambda: topic_records(
            stack,
            "payments.payable.v1",
            lambda e: e.get("event_type") == "payments.ProviderPaid" and e.get("provider_id") == provider.id,
        ),
        timeout_s=30,
    )
    assert (paid.event["amount_tiyn"], paid.event["treasury_reference"]) == (total, "TRS-1")
    [seen_payment] = payments.get(f"/v1/providers/{provider.id}/payments", headers=provider.headers).json()["items"]
    assert (seen_payment["amount_tiyn"], seen_payment["status"], seen_payment["treasury_reference"]) == (
        total,
        "paid",
        "TRS-1",
    )
    assert {a["status"] for a in accruals()} == {"paid"}
    paid_statement = statement()
    assert paid_statement["payable_balance_tiyn"] == 0
    [month] = [m for m in paid_statement["months"] if m["period"] == period]
    assert (month["accrued_tiyn"], month["paid_tiyn"]) == (total, total)

    reconciled = qosym(stack, "payments", "reconcile", "--region", region_code)
    assert reconciled.returncode == 0, reconciled.stdout + reconciled.stderr
    assert "0 findings" in reconciled.stdout and period in reconciled.stdout

    # the same AttendanceConfirmed delivered again, then the same month under a new event id: nothing changes
    before = (accruals(), statement(), round_budget(), duplicates_seen(stack))
    original = confirmations[0]
    produce(stack, TIMESHEETS, original.value, key=original.key)
    intent = {**original.event, "event_id": str(uuid.uuid4())}
    produce(stack, TIMESHEETS, json.dumps(intent).encode(), key=original.key)
    eventually(  # same key, same partition: the duplicate was read before this one
        lambda: db_value(stack, "payments", "select count(*) from inbox where event_id = $1", intent["event_id"]) == 1,
        timeout_s=60,
    )
    assert duplicates_seen(stack) >= before[3] + 1  # it was read, and recognised as applied already
    assert (accruals(), statement(), round_budget()) == before[:3]
    assert (
        db_value(stack, "payments", "select count(*) from inbox where event_id = $1", original.event["event_id"]) == 1
    )
    reconciled = qosym(stack, "payments", "reconcile", "--region", region_code)
    assert reconciled.returncode == 0, reconciled.stdout + reconciled.stderr


def test_awards_beyond_the_budget_are_never_funded(running_stack, api, token) -> None:
    stack = running_stack
    region_code = f"thriftshire-{uuid.uuid4().hex[:6]}"
    region = configure_region(stack, token, region_code)
    monthly_value, months = region["voucher"]["monthly_value"]["sports"], region["voucher"]["months"]
    cost = monthly_value * months
    family = new_family(stack, token, children=4, region=region_code)
    round_id = award_vouchers(stack, token, [family], region=region_code, budget_for=2)  # four apply, two funded
    awarded = {c.voucher_id for c in family.children if c.voucher_id}
    admin = bearer(token("administrator"))

    payments, allocation = api("payments"), api("allocation")
    vouchers = allocation.get(f"/v1/rounds/{round_id}/vouchers", headers=admin).json()["items"]
    assert {v["voucher_id"] for v in vouchers} == awarded and len(awarded) == 2

    def round_budget() -> dict:
        return payments.get(f"/v1/rounds/{round_id}/budget", headers=admin).json()

    funded = eventually(lambda: (b := round_budget()).get("vouchers_funded") == 2 and b, timeout_s=60)
    assert (funded["budget_tiyn"], funded["committed_tiyn"], funded["available_tiyn"]) == (2 * cost, 2 * cost, 0)
    assert funded["vouchers_refused"] == 0
    assert payments.get(f"/v1/rounds/{round_id}/funding-refusals", headers=admin).json()["items"] == []

    # an award the exhausted budget cannot fund (say allocation re-offered a place to a waitlisted child)
    waitlisted = next(c for c in family.children if c.voucher_id is None)
    award = VoucherAwardedV1(
        voucher_id=uuid.uuid4(),
        application_id=uuid.uuid4(),
        child_id=uuid.UUID(waitlisted.id),
        region_code=region_code,
        district_code="yesil",
        round_id=uuid.UUID(round_id),
        direction="sports",
        monthly_value_tiyn=monthly_value,
        months=months,
        valid_until=date.today() + timedelta(days=300),
    )
    produce(stack, award.topic, award.model_dump_json().encode(), key=award.message_key.encode())
    [refusal] = eventually(
        lambda: payments.get(f"/v1/rounds/{round_id}/funding-refusals", headers=admin).json()["items"], timeout_s=60
    )
    assert (refusal["voucher_id"], refusal["requested_tiyn"], refusal["available_tiyn"]) == (
        str(award.voucher_id),
        cost,
        0,
    )
    after = round_budget()
    assert after == {**funded, "vouchers_refused": 1}
    voucher = str(award.voucher_id)
    assert db_value(stack, "payments", "select count(*) from account where code = $1", f"voucher:{voucher}") == 0
    assert db_value(stack, "payments", "select count(*) from transfer where business_key = $1", f"fund:{voucher}") == 0
    [refused] = eventually(
        lambda: topic_records(stack, "payments.budget.v1", lambda e: e.get("voucher_id") == voucher), timeout_s=30
    )
    assert refused.event["event_type"] == "payments.VoucherFundingRefused"
    assert (refused.event["requested_tiyn"], refused.event["available_tiyn"]) == (cost, 0)

    # reconciliation names the refusal and nothing else: the ledger itself is whole
    reconciled = qosym(stack, "payments", "reconcile", "--region", region_code)
    assert reconciled.returncode == 1, reconciled.stdout + reconciled.stderr
    findings = [line for line in reconciled.stdout.splitlines() if line.startswith("✗")]
    assert {line.split()[1] for line in findings} == {"no_funding_refused", "vouchers_match_allocation"}
    assert all(voucher in line for line in findings), findings
