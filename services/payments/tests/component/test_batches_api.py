"""Maker–checker batches, the pain.001 order, treasury confirmation and statements, providers' views."""

from __future__ import annotations

import hashlib
import importlib.resources
from uuid import UUID, uuid4

import asyncpg
import pytest
import xmlschema

from qosym_contracts.allocation import TreasuryAccount
from tests.support.events import message, region_event

from .support import (
    MONTHLY,
    MONTHS,
    attendance_confirmed,
    balance,
    bearer,
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
OPERATOR_SCOPE = {"region": "astana"}  # an operator's token always names its region


async def month_of_two_providers(service_db, consumer):
    """Two providers, three children, November confirmed: 7/9, 9/9 and 8/8 sessions of 12,000 ₸."""
    url = await service_db("payments")
    c = await consumer("payments", url)
    opened = round_opened(10 * MONTHLY * MONTHS)
    barys, dostar = provider_verified(), provider_verified(name="Dostar Chess", bin="990340005977")
    for event in (region_event(), opened, barys, dostar):
        await c.deliver(message(event))
    for provider, payable, planned in ((barys, 7, 9), (barys, 9, 9), (dostar, 8, 8)):
        award = voucher_awarded(opened.round_id)
        enrolment = enrolment_confirmed(award, provider.provider_id)
        for event in (award, enrolment, attendance_confirmed(enrolment, payable=payable, planned=planned)):
            await c.deliver(message(event))
    return url, c, barys.provider_id, dostar.provider_id


BARYS_TOTAL = 1_200_000 * 7 // 9 + 1_200_000
DOSTAR_TOTAL = 1_200_000


async def test_two_administrators_approve_a_batch_and_the_treasury_pays_it(
    service_db, consumer, api_client, token
) -> None:
    url, _, barys, dostar = await month_of_two_providers(service_db, consumer)
    aigerim, bolat = str(uuid4()), str(uuid4())  # staff account ids (the tokens' subjects), never usernames
    maker, checker = bearer(token("administrator", aigerim)), bearer(token("administrator", bolat))
    async with api_client("payments", url) as client:
        prepared = await client.post("/v1/batches", json={"region_code": "astana", "period": "2026-11"}, headers=maker)
        assert prepared.status_code == 201, prepared.text
        batch = prepared.json()
        assert (batch["status"], batch["providers"], batch["total_tiyn"]) == ("prepared", 2, BARYS_TOTAL + DOSTAR_TOTAL)
        assert {i["provider_id"]: i["amount_tiyn"] for i in batch["items"]} == {
            str(barys): BARYS_TOTAL,
            str(dostar): DOSTAR_TOTAL,
        }
        path = f"/v1/batches/{batch['batch_id']}"

        own = await client.post(f"{path}/approve", headers=maker)
        assert own.status_code == 403
        assert "maker" in own.json()["detail"]
        assert (await client.get(f"{path}/payment-order", headers=maker)).status_code == 404

        approved = await client.post(f"{path}/approve", headers=checker)
        assert approved.status_code == 200, approved.text
        assert approved.json()["approved_by"] == bolat
        again = await client.post(f"{path}/approve", headers=checker)
        assert again.status_code == 409

        order = await client.get(f"{path}/payment-order", headers=bearer(token("auditor")))
        assert order.status_code == 200
        assert order.headers["content-type"].startswith("application/xml")
        digest = hashlib.sha256(order.content).hexdigest()
        assert digest == approved.json()["order_sha256"] == order.headers["x-content-sha256"]
        xsd = importlib.resources.files("sepaxml") / "schemas" / "pain.001.001.09.xsd"
        xmlschema.XMLSchema(str(xsd)).validate(order.text)  # raises if the file does not validate
        decoded = xmlschema.XMLSchema(str(xsd)).to_dict(order.text)
        info = decoded["CstmrCdtTrfInitn"]["PmtInf"][0]
        assert info["DbtrAcct"]["Id"]["IBAN"] == "KZ05070KZT0000000001"
        assert str(decoded["CstmrCdtTrfInitn"]["GrpHdr"]["CtrlSum"]) == "33333.33"
        assert sorted(str(t["Amt"]["InstdAmt"]["$"]) for t in info["CdtTrfTxInf"]) == ["12000.00", "21333.33"]
        [approval] = await outbox(url, "payments.PaymentBatchApproved")
        assert approval["order_sha256"] == digest
        assert (approval["prepared_by"], approval["approved_by"]) == (aigerim, bolat)

        confirmation = {"treasury_reference": "TRS-2026-12-000123", "paid_at": "2026-12-02T10:15:00+05:00"}
        paid = await client.post(f"{path}/treasury-confirmation", json=confirmation, headers=bearer(token("partner")))
        assert paid.status_code == 200, paid.text
        assert paid.json() == {"confirmed": 2, "already_confirmed": 0, "batches_paid": [batch["batch_id"]]}
        repeat = await client.post(f"{path}/treasury-confirmation", json=confirmation, headers=checker)
        assert repeat.json() == {"confirmed": 0, "already_confirmed": 2, "batches_paid": []}

        statement = await client.get(f"/v1/providers/{barys}/statement", headers=maker)
        assert statement.json()["months"][0]["paid_tiyn"] == BARYS_TOTAL
        assert (await client.get(path, headers=maker)).json()["status"] == "paid"

    assert await balance(url, f"provider_payable:{barys}") == 0
    assert await balance(url, "settlement:astana") == BARYS_TOTAL + DOSTAR_TOTAL
    paid_events = await outbox(url, "payments.ProviderPaid")
    assert sorted((p["provider_id"], p["amount_tiyn"]) for p in paid_events) == sorted(
        [(str(barys), BARYS_TOTAL), (str(dostar), DOSTAR_TOTAL)]
    )
    assert {p["treasury_reference"] for p in paid_events} == {"TRS-2026-12-000123"}
    assert await ledger_findings(url) == []


async def test_the_region_files_treasury_account_is_the_debtor_of_its_payment_orders(
    service_db, consumer, api_client, token
) -> None:
    url, c, _, _ = await month_of_two_providers(service_db, consumer)
    account = TreasuryAccount(name="Astana city, education department", iban="KZ86125KZT5004100100", bic="HSBKKZKX")
    await c.deliver(message(region_event(revision=2, treasury_account=account)))  # the region file now names it
    maker, checker = bearer(token("administrator", str(uuid4()))), bearer(token("administrator", str(uuid4())))
    async with api_client("payments", url) as client:
        prepared = await client.post("/v1/batches", json={"region_code": "astana", "period": "2026-11"}, headers=maker)
        path = f"/v1/batches/{prepared.json()['batch_id']}"
        assert (await client.post(f"{path}/approve", headers=checker)).status_code == 200
        order = await client.get(f"{path}/payment-order", headers=bearer(token("auditor")))
    xsd = importlib.resources.files("sepaxml") / "schemas" / "pain.001.001.09.xsd"
    info = xmlschema.XMLSchema(str(xsd)).to_dict(order.text)["CstmrCdtTrfInitn"]["PmtInf"][0]
    assert info["DbtrAcct"]["Id"]["IBAN"] == "KZ86125KZT5004100100"
    assert info["Dbtr"]["Nm"] == "Astana city, education department"


async def test_a_region_event_with_an_invalid_treasury_iban_is_dead_lettered_and_changes_nothing(
    service_db, consumer
) -> None:
    url = await service_db("payments")
    c = await consumer("payments", url)
    await c.deliver(message(region_event()))
    bad = TreasuryAccount(name="Typo", iban="KZ86125KZT5004100101", bic="HSBKKZKX")
    await c.deliver(message(region_event(revision=2, treasury_account=bad)))
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        row = await conn.fetchrow("select revision, treasury_account from region_budget where region_code = 'astana'")
        dead = await conn.fetchval("select count(*) from dead_letter")
    finally:
        await conn.close()
    assert (row["revision"], row["treasury_account"], dead) == (1, None, 1)


async def test_a_second_batch_of_the_same_month_has_nothing_to_pay(service_db, consumer, api_client, token) -> None:
    url, *_ = await month_of_two_providers(service_db, consumer)
    admin = bearer(token("administrator"))
    body = {"region_code": "astana", "period": "2026-11"}
    async with api_client("payments", url) as client:
        assert (await client.post("/v1/batches", json=body, headers=admin)).status_code == 201
        second = await client.post("/v1/batches", json=body, headers=admin)
    assert second.status_code == 409
    assert await value(url, "SELECT count(*) FROM payment_batch") == 1


async def test_a_cancelled_batch_frees_its_accruals(service_db, consumer, api_client, token) -> None:
    url, *_ = await month_of_two_providers(service_db, consumer)
    admin = bearer(token("administrator"))
    body = {"region_code": "astana", "period": "2026-11"}
    async with api_client("payments", url) as client:
        first = (await client.post("/v1/batches", json=body, headers=admin)).json()
        cancelled = await client.post(f"/v1/batches/{first['batch_id']}/cancel", headers=admin)
        assert cancelled.json()["status"] == "cancelled"
        second = await client.post("/v1/batches", json=body, headers=admin)
    assert second.status_code == 201
    assert second.json()["total_tiyn"] == first["total_tiyn"]


async def test_a_provider_without_bank_details_is_held_back(service_db, consumer, api_client, token) -> None:
    url, c, barys, dostar = await month_of_two_providers(service_db, consumer)
    await c.deliver(message(provider_verified(dostar, name="Dostar Chess", iban=None)))
    async with api_client("payments", url) as client:
        batch = await client.post(
            "/v1/batches", json={"region_code": "astana", "period": "2026-11"}, headers=bearer(token("administrator"))
        )
    assert batch.status_code == 201
    assert [i["provider_id"] for i in batch.json()["items"]] == [str(barys)]
    assert batch.json()["held_back_providers"] == [str(dostar)]


async def approved_batch(client, token) -> dict:
    prepared = await client.post(
        "/v1/batches", json={"region_code": "astana", "period": "2026-11"}, headers=bearer(token("administrator"))
    )
    batch_id = prepared.json()["batch_id"]
    approved = await client.post(f"/v1/batches/{batch_id}/approve", headers=bearer(token("administrator")))
    assert approved.status_code == 200, approved.text
    return approved.json()


def csv_of(lines: list[tuple[str, str, str]]) -> str:
    rows = ["end_to_end_id,amount,currency,reference,booked_at"]
    rows += [f"{e2e},{amount},KZT,{ref},2026-12-02T10:15:00+05:00" for e2e, amount, ref in lines]
    return "\n".join(rows) + "\n"


async def test_a_treasury_statement_pays_what_it_lists_once(service_db, consumer, api_client, token) -> None:
    url, *_ = await month_of_two_providers(service_db, consumer)
    treasury = {**bearer(token("partner")), "Content-Type": "text/csv"}
    async with api_client("payments", url) as client:
        batch = await approved_batch(client, token)
        first, second = batch["items"]
        amount = {BARYS_TOTAL: "21333.33", DOSTAR_TOTAL: "12000"}

        one = csv_of([(first["end_to_end_id"], amount[first["amount_tiyn"]], "TRS-1")])
        applied = await client.post("/v1/treasury/statements", content=one, headers=treasury)
        assert applied.status_code == 200, applied.text
        assert applied.json() == {"confirmed": 1, "already_confirmed": 0, "batches_paid": []}

        both = csv_of(
            [
                (first["end_to_end_id"], amount[first["amount_tiyn"]], "TRS-1"),
                (second["end_to_end_id"], amount[second["amount_tiyn"]], "TRS-2"),
            ]
        )
        applied = await client.post("/v1/treasury/statements", content=both, headers=treasury)
        assert applied.json() == {"confirmed": 1, "already_confirmed": 1, "batches_paid": [batch["batch_id"]]}
        again = await client.post("/v1/treasury/statements", content=both, headers=treasury)
        assert again.json() == {"confirmed": 0, "already_confirmed": 2, "batches_paid": []}
    assert len(await outbox(url, "payments.ProviderPaid")) == 2
    assert await value(url, "SELECT count(*) FROM transfer WHERE kind = 'payout'") == 2
    assert await ledger_findings(url) == []


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda e2e, amount: csv_of([(e2e, "1.00", "TRS-1")]), "line 2"),  # amount differs from the order
        (lambda e2e, amount: csv_of([(uuid4().hex, amount, "TRS-1")]), "line 2"),  # unknown end-to-end id
        (lambda e2e, amount: csv_of([(e2e, "-5", "TRS-1")]), "line 2"),
        (lambda e2e, amount: csv_of([(e2e, "12.005", "TRS-1")]), "line 2"),
        (lambda e2e, amount: csv_of([(e2e, amount, "TRS-1")]).replace("KZT", "EUR"), "line 2"),
        (lambda e2e, amount: "id;amount\n1;2\n", "line 1"),
    ],
)
async def test_a_statement_that_does_not_match_changes_nothing(
    service_db, consumer, api_client, token, mutate, field
) -> None:
    url, *_ = await month_of_two_providers(service_db, consumer)
    async with api_client("payments", url) as client:
        batch = await approved_batch(client, token)
        item = batch["items"][0]
        amount = "21333.33" if item["amount_tiyn"] == BARYS_TOTAL else "12000.00"
        response = await client.post(
            "/v1/treasury/statements",
            content=mutate(item["end_to_end_id"], amount),
            headers={**bearer(token("partner")), "Content-Type": "text/csv"},
        )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in response.json()["errors"]]
    assert await outbox(url, "payments.ProviderPaid") == []
    assert await value(url, "SELECT count(*) FROM transfer WHERE kind = 'payout'") == 0


async def test_providers_see_their_own_accruals_only(service_db, consumer, api_client, token) -> None:
    url, _, barys, dostar = await month_of_two_providers(service_db, consumer)
    staff = bearer(token("provider_staff", scope={"provider": str(barys)}))
    async with api_client("payments", url) as client:
        own = await client.get(f"/v1/providers/{barys}/accruals", headers=staff)
        assert own.status_code == 200
        items = own.json()["items"]
        assert sorted(i["amount_tiyn"] for i in items) == [1_200_000 * 7 // 9, 1_200_000]
        assert {i["status"] for i in items} == {"accrued"}
        assert {i["period"] for i in items} == {"2026-11"}
        statement = await client.get(f"/v1/providers/{barys}/statement", headers=staff)
        assert statement.json()["payable_balance_tiyn"] == BARYS_TOTAL
        [month] = statement.json()["months"]
        assert (month["period"], month["accrued_tiyn"], len(month["children"])) == ("2026-11", BARYS_TOTAL, 2)

        for path in ("accruals", "statement", "payments"):
            foreign = await client.get(f"/v1/providers/{dostar}/{path}", headers=staff)
            missing = await client.get(f"/v1/providers/{uuid4()}/{path}", headers=staff)
            assert foreign.status_code == missing.status_code == 404
            assert foreign.json()["detail"] == missing.json()["detail"]
        unscoped = await client.get(f"/v1/providers/{barys}/accruals", headers=bearer(token("provider_staff")))
        assert unscoped.status_code == 404
        for role in ("parent", "operator", "partner"):
            assert (
                await client.get(
                    f"/v1/providers/{barys}/accruals",
                    headers=bearer(token(role, scope=OPERATOR_SCOPE if role == "operator" else None)),
                )
            ).status_code == 403


@pytest.mark.parametrize("role", ["parent", "operator", "provider_staff", "auditor", "partner", "ops"])
async def test_only_administrators_prepare_and_approve(service_db, consumer, api_client, token, role) -> None:
    url, *_ = await month_of_two_providers(service_db, consumer)
    async with api_client("payments", url) as client:
        denied = await client.post(
            "/v1/batches",
            json={"region_code": "astana", "period": "2026-11"},
            headers=bearer(token(role, scope=OPERATOR_SCOPE if role == "operator" else None)),
        )
        batch = (
            await client.post(
                "/v1/batches",
                json={"region_code": "astana", "period": "2026-11"},
                headers=bearer(token("administrator")),
            )
        ).json()
        approval = await client.post(
            f"/v1/batches/{batch['batch_id']}/approve",
            headers=bearer(token(role, scope=OPERATOR_SCOPE if role == "operator" else None)),
        )
    assert denied.status_code == approval.status_code == 403
    assert await value(url, "SELECT status FROM payment_batch") == "prepared"


@pytest.mark.parametrize(
    "body",
    [
        {"region_code": "astana", "period": "2026-13"},
        {"region_code": "astana"},
        {"region_code": "astana", "period": "2026-11", "status": "approved"},
        {"region_code": "$$$", "period": "2026-11"},
    ],
)
async def test_a_malformed_batch_request_is_a_problem_naming_the_field(service_db, api_client, token, body) -> None:
    url = await service_db("payments")
    async with api_client("payments", url) as client:
        response = await client.post("/v1/batches", json=body, headers=bearer(token("administrator")))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] in {"period", "region_code", "status"}


async def test_a_batch_for_a_region_payments_was_never_told_of_is_422_naming_region_code(
    service_db, api_client, token
) -> None:
    url = await service_db("payments")
    async with api_client("payments", url) as client:
        response = await client.post(
            "/v1/batches", json={"region_code": "nowhere", "period": "2026-11"}, headers=bearer(token("administrator"))
        )
    assert response.status_code == 422, response.text
    assert (response.json()["errors"][0]["field"], response.json()["errors"][0]["type"]) == (
        "region_code",
        "unknown_region",
    )


async def test_unknown_batches_are_404(service_db, api_client, token) -> None:
    url = await service_db("payments")
    admin = bearer(token("administrator"))
    async with api_client("payments", url) as client:
        for response in (
            await client.get(f"/v1/batches/{uuid4()}", headers=admin),
            await client.post(f"/v1/batches/{uuid4()}/approve", headers=admin),
            await client.get(f"/v1/batches/{uuid4()}/payment-order", headers=admin),
            await client.post(
                f"/v1/batches/{uuid4()}/treasury-confirmation",
                json={"treasury_reference": "x", "paid_at": "2026-12-01T00:00:00Z"},
                headers=admin,
            ),
        ):
            assert response.status_code == 404


async def test_the_database_refuses_a_maker_approving_their_own_batch(service_db, consumer, api_client, token) -> None:
    url, *_ = await month_of_two_providers(service_db, consumer)
    async with api_client("payments", url) as client:
        batch = (
            await client.post(
                "/v1/batches",
                json={"region_code": "astana", "period": "2026-11"},
                headers=bearer(token("administrator")),
            )
        ).json()
    with pytest.raises(Exception, match="maker_is_not_checker"):
        await fetch(
            url,
            "UPDATE payment_batch SET status = 'approved', approved_by = prepared_by, order_sha256 = 'x'"
            " WHERE batch_id = $1",
            UUID(batch["batch_id"]),
        )


async def test_a_batch_is_made_and_approved_by_staff_ids_never_by_a_username(service_db, consumer, api_client, token):
    """PaymentBatchApproved names the maker and the checker: a token whose subject is not a staff account's id (a
    username, say) can neither prepare nor approve, and nothing is written."""
    url, *_ = await month_of_two_providers(service_db, consumer)
    by_name = bearer(token("administrator", "admin-aigerim"))
    async with api_client("payments", url) as client:
        refused = await client.post("/v1/batches", json={"region_code": "astana", "period": "2026-11"}, headers=by_name)
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert await outbox(url, "payments.PaymentBatchApproved") == []
        maker = bearer(token("administrator", str(uuid4())))
        prepared = await client.post("/v1/batches", json={"region_code": "astana", "period": "2026-11"}, headers=maker)
        assert prepared.status_code == 201, prepared.text
        own = await client.post(f"/v1/batches/{prepared.json()['batch_id']}/approve", headers=by_name)
        assert own.status_code == 403, own.text
        assert (await client.get(f"/v1/batches/{prepared.json()['batch_id']}", headers=maker)).json()["status"] == (
            "prepared"
        )
        bad_reference = {"treasury_reference": "TRS 1\nДобрый день", "paid_at": "2026-12-01T00:00:00Z"}
        path = f"/v1/batches/{prepared.json()['batch_id']}/treasury-confirmation"
        refused = await client.post(path, json=bad_reference, headers=bearer(token("partner")))
        assert refused.status_code == 422 and "treasury_reference" in refused.text
