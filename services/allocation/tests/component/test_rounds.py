"""Rounds, applications, lottery, awards and vouchers against a real database."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from typer.testing import CliRunner

from qosym_chassis.consumer import IncomingMessage, Outcome
from qosym_cli import allocation_cmds
from qosym_cli.main import app
from qosym_contracts.allocation import VoucherAwardedV1
from qosym_contracts.catalog import EnrolmentEndedV1, EnrolmentRequestedV1
from qosym_contracts.registry import (
    ChildCategoriesVerifiedV1,
    ChildRegisteredV1,
    GuardianshipEndedV1,
    GuardianshipEstablishedV1,
    VerifiedCategory,
)

pytestmark = pytest.mark.component
REGIONS = Path(__file__).resolve().parents[4] / "deploy" / "regions"
SPORTS_COST = 1_500_000 * 9


def astana() -> dict:
    return yaml.safe_load((REGIONS / "astana.yaml").read_text())


def round_body(**changes) -> dict:
    now = datetime.now(UTC)
    body = {
        "region_code": "astana",
        "name": "Autumn 2026",
        "budget_tiyn": 100 * SPORTS_COST,
        "quotas": {"yesil": {"sports": 2, "creativity": 1}, "nura": {"sports": 1}},
        "application_opens_at": (now - timedelta(hours=1)).isoformat(),
        "application_closes_at": (now + timedelta(days=7)).isoformat(),
        "reference_date": "2026-09-01",
        "voucher_valid_until": "2027-06-30",
    }
    body.update(changes)
    return body


async def sql(url: str, query: str, **params) -> list:
    engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://"))
    async with engine.connect() as conn:
        rows = (await conn.execute(text(query), params)).all()
    await engine.dispose()
    return rows


class World:
    def __init__(self, client, consumer, token) -> None:
        self.client = client
        self.consumer = consumer
        self.token = token
        self.admin = {"Authorization": f"Bearer {token('administrator')}"}

    async def deliver(self, event) -> Outcome:
        return await self.consumer.deliver(IncomingMessage(event.topic, event.model_dump_json().encode()))

    async def child(self, district="yesil", born=date(2016, 5, 14), categories=(), region="astana"):
        guardian = str(uuid.uuid4())
        event = ChildRegisteredV1(
            child_id=uuid.uuid4(),
            guardian_id=uuid.UUID(guardian),
            birth_date=born,
            sex="F",
            region_code=region,
            district_code=district,
        )
        await self.deliver(event)
        if categories:
            await self.deliver(
                ChildCategoriesVerifiedV1(
                    child_id=event.child_id,
                    region_code=region,
                    categories=[VerifiedCategory(code=c, valid_from=date(2020, 1, 1)) for c in categories],
                )
            )
        return str(event.child_id), {"Authorization": f"Bearer {self.token('parent', guardian)}"}, guardian

    async def round(self, **changes) -> str:
        response = await self.client.post("/v1/rounds", json=round_body(**changes), headers=self.admin)
        assert response.status_code == 201, response.text
        return response.json()["round_id"]

    async def act(self, round_id: str, action: str):
        # the tests' rounds are closed before their window ends: that needs an early-close reason
        body = {"reason": "schedule_change"} if action == "close" else None
        return await self.client.post(f"/v1/rounds/{round_id}/{action}", headers=self.admin, json=body)


@pytest.fixture
async def world(service_db, api_client, consumer, token):
    url = await service_db("allocation")
    allocation = await consumer("allocation", url)
    async with api_client("allocation", url) as client:
        assert (
            await client.put("/v1/regions/astana", json=astana(), headers=World(client, allocation, token).admin)
        ).status_code == 201
        w = World(client, allocation, token)
        w.url = url
        yield w


async def test_round_lifecycle_is_guarded_and_the_seed_is_committed_then_revealed(world):
    r = await world.round()
    created = (await world.client.get(f"/v1/rounds/{r}")).json()
    assert created["state"] == "draft" and created["seed_hex"] is None and len(created["seed_sha256"]) == 64
    assert (await world.act(r, "close")).status_code == 409
    assert (await world.act(r, "allocate")).status_code == 409
    assert (await world.act(r, "open")).json()["state"] == "open"
    assert (await world.act(r, "open")).status_code == 409
    assert (await world.client.get(f"/v1/rounds/{r}")).json()["seed_hex"] is None
    closed = (await world.act(r, "close")).json()
    assert hashlib.sha256(bytes.fromhex(closed["seed_hex"])).hexdigest() == created["seed_sha256"]
    first = await world.act(r, "allocate")
    second = await world.act(r, "allocate")
    assert first.status_code == second.status_code == 200 and first.json() == second.json()
    events = await sql(world.url, "select event_type from outbox where topic = 'allocation.round.v1' order by id")
    assert [e[0] for e in events] == ["allocation.RoundOpened", "allocation.RoundClosed"]


async def test_round_input_errors_name_the_field_and_need_an_administrator(world):
    bad = [
        (round_body(budget_tiyn=10.5), "budget_tiyn"),
        (round_body(budget_tiyn="100"), "budget_tiyn"),
        (round_body(quotas={"atlantis": {"sports": 1}}), "quotas.atlantis"),
        (round_body(quotas={"yesil": {"chess": 1}}), "quotas.yesil.chess"),
        (round_body(region_code="mars"), "region_code"),
        ({**round_body(), "surprise": 1}, "surprise"),
    ]
    for body, field in bad:
        response = await world.client.post("/v1/rounds", json=body, headers=world.admin)
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["field"] == field
    _, parent, _ = await world.child()
    assert (await world.client.post("/v1/rounds", json=round_body(), headers=parent)).status_code == 403
    assert (await world.client.post(f"/v1/rounds/{uuid.uuid4()}/open", headers=world.admin)).status_code == 404
    assert (await sql(world.url, "select count(*) from round"))[0][0] == 0


async def test_applications_check_guardianship_age_band_region_and_uniqueness(world):
    r = await world.round()
    child, parent, guardian = await world.child()
    apply = lambda body, headers: world.client.post(f"/v1/rounds/{r}/applications", json=body, headers=headers)  # noqa: E731
    assert (await apply({"child_id": child, "direction": "sports"}, parent)).status_code == 409  # draft
    await world.act(r, "open")
    stranger = {"Authorization": f"Bearer {world.token('parent')}"}
    assert (await apply({"child_id": child, "direction": "sports"}, stranger)).status_code == 404
    assert (await apply({"child_id": child, "direction": "chess"}, parent)).json()["errors"][0]["field"] == "direction"
    baby, baby_parent, _ = await world.child(born=date(2024, 1, 1))
    too_young = await apply({"child_id": baby, "direction": "sports"}, baby_parent)
    assert too_young.status_code == 422 and too_young.json()["errors"][0]["type"] == "age_band"
    elsewhere, elsewhere_parent, _ = await world.child(region="almaty")
    assert (await apply({"child_id": elsewhere, "direction": "sports"}, elsewhere_parent)).status_code == 422
    ok = await apply({"child_id": child, "direction": "sports"}, parent)
    assert ok.status_code == 201 and ok.json()["status"] == "submitted"
    assert (await apply({"child_id": child, "direction": "creativity"}, parent)).status_code == 409
    # a second guardian via GuardianshipEstablished sees it; after GuardianshipEnded the first one no longer does
    other = uuid.uuid4()
    await world.deliver(GuardianshipEstablishedV1(child_id=uuid.UUID(child), guardian_id=other))
    other_headers = {"Authorization": f"Bearer {world.token('parent', str(other))}"}
    application = ok.json()["application_id"]
    assert (await world.client.get(f"/v1/applications/{application}", headers=other_headers)).status_code == 200
    await world.deliver(GuardianshipEndedV1(child_id=uuid.UUID(child), guardian_id=uuid.UUID(guardian)))
    assert (await world.client.get(f"/v1/applications/{application}", headers=parent)).status_code == 404
    # withdraw, re-apply, close: no more withdrawals
    assert (await world.client.post(f"/v1/applications/{application}/withdraw", headers=other_headers)).json()[
        "status"
    ] == "withdrawn"
    again = await apply({"child_id": child, "direction": "creativity"}, other_headers)
    assert again.status_code == 201
    await world.act(r, "close")
    late = await world.client.post(f"/v1/applications/{again.json()['application_id']}/withdraw", headers=other_headers)
    assert late.status_code == 409


async def test_ranking_awards_within_quotas_and_budget_and_explains(world):
    r = await world.round(budget_tiyn=3 * SPORTS_COST)
    await world.act(r, "open")
    kids = {}
    for name, district, cats in [
        ("orphan", "yesil", ["orphan"]),
        ("large", "yesil", ["large_family"]),
        ("plain1", "yesil", []),
        ("nura_plain", "nura", []),
        ("nura_disabled", "nura", ["disability"]),
    ]:
        child, parent, _ = await world.child(district=district, categories=cats)
        response = await world.client.post(
            f"/v1/rounds/{r}/applications", json={"child_id": child, "direction": "sports"}, headers=parent
        )
        kids[name] = (response.json()["application_id"], parent)
    await world.act(r, "close")
    result = (await world.act(r, "allocate")).json()
    assert result["awarded"] == 3 and result["spent_tiyn"] == 3 * SPORTS_COST
    status = {n: (await world.client.get(f"/v1/applications/{a}", headers=p)).json() for n, (a, p) in kids.items()}
    assert {n for n, s in status.items() if s["status"] == "awarded"} == {"orphan", "large", "nura_disabled"}
    assert status["nura_plain"]["status"] == "waitlisted" and status["nura_plain"]["waitlist_position"] in (1, 2)
    assert status["orphan"]["voucher"]["monthly_value_tiyn"] == 1_500_000
    explained = (
        await world.client.get(f"/v1/applications/{kids['plain1'][0]}/explanation", headers=kids["plain1"][1])
    ).json()
    assert explained["score"] == 0 and explained["outcome"] == "waitlisted" and explained["cutoff"]["score"] == 60
    assert "yesil × sports" in explained["why"]
    orphan = (await world.client.get(f"/v1/applications/{kids['orphan'][0]}/explanation", headers=world.admin)).json()
    assert orphan["score_breakdown"] == [{"category": "orphan", "weight": 120}]
    stranger = {"Authorization": f"Bearer {world.token('parent')}"}
    assert (
        await world.client.get(f"/v1/applications/{kids['orphan'][0]}/explanation", headers=stranger)
    ).status_code == 404
    published = (await world.client.get(f"/v1/rounds/{r}/published-list")).json()
    assert [e["rank"] for e in published["entries"]] == [1, 2, 3, 4, 5]
    seed = bytes.fromhex(published["seed_hex"])
    for entry in published["entries"]:
        assert entry["lottery_number"] == hashlib.sha256(seed + uuid.UUID(entry["public_id"]).bytes).hexdigest()
        assert "child_id" not in entry
    awarded_events = await sql(world.url, "select payload from outbox where event_type = 'allocation.VoucherAwarded'")
    assert len(awarded_events) == 3
    for (payload,) in awarded_events:
        VoucherAwardedV1.model_validate(payload)
    simulated = (
        await world.client.post(f"/v1/rounds/{r}/simulate", json={"weights": {"orphan": 0}}, headers=world.admin)
    ).json()
    assert simulated["awarded_simulated"] == 3
    assert (await sql(world.url, "select count(*) from voucher"))[0][0] == 3  # nothing stored by simulate
    bad = await world.client.post(f"/v1/rounds/{r}/simulate", json={"weights": {"orphan": -1}}, headers=world.admin)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "weights.orphan"


async def test_a_thousand_concurrent_applications_and_a_quota_of_100(world):
    r = await world.round(quotas={"yesil": {"sports": 100}}, budget_tiyn=1000 * SPORTS_COST)
    await world.act(r, "open")
    engine = create_async_engine(world.url.replace("postgresql://", "postgresql+asyncpg://"))
    children = [(uuid.uuid4(), uuid.uuid4()) for _ in range(1000)]
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "insert into child (child_id, guardian_id, birth_date, sex, region_code, district_code, registered_at)"
                " values (:c, :g, '2015-01-01', 'M', 'astana', 'yesil', now())"
            ),
            [{"c": c, "g": g} for c, g in children],
        )
    await engine.dispose()
    semaphore = asyncio.Semaphore(50)

    async def apply(child, guardian):
        async with semaphore:
            headers = {"Authorization": f"Bearer {world.token('parent', str(guardian))}"}
            return await world.client.post(
                f"/v1/rounds/{r}/applications", json={"child_id": str(child), "direction": "sports"}, headers=headers
            )

    responses = await asyncio.gather(*(apply(c, g) for c, g in children))
    assert [x.status_code for x in responses].count(201) == 1000
    await world.act(r, "close")
    results = await asyncio.gather(*(world.act(r, "allocate") for _ in range(5)))
    assert {x.status_code for x in results} == {200}
    assert all(x.json() == results[0].json() for x in results)
    assert results[0].json()["awarded"] == 100
    assert (await sql(world.url, "select count(*) from voucher"))[0][0] == 100
    assert (await sql(world.url, "select awarded, quota from round_quota"))[0] == (100, 100)
    assert (await sql(world.url, "select count(*) from application_outcome where status = 'waitlisted'"))[0][0] == 900
    assert (await sql(world.url, "select count(*), count(distinct run_id) from allocation_result"))[0] == (1000, 1)
    assert (await sql(world.url, "select count(*) from application where status <> 'submitted'"))[0][0] == 0
    waitlisted_events = (
        "select count(distinct event_id) from outbox where event_type = 'allocation.ApplicationWaitlisted'"
    )
    assert (await sql(world.url, waitlisted_events))[0][0] == 900


async def test_release_reoffers_to_the_first_waitlisted_child_and_the_enrolment_saga(world):
    r = await world.round(quotas={"yesil": {"sports": 1}})
    await world.act(r, "open")
    applicants = []
    for cats in (["orphan"], ["large_family"], []):
        child, parent, _ = await world.child(categories=cats)
        response = await world.client.post(
            f"/v1/rounds/{r}/applications", json={"child_id": child, "direction": "sports"}, headers=parent
        )
        applicants.append((child, parent, response.json()["application_id"]))
    await world.act(r, "close")
    await world.act(r, "allocate")
    first, second, third = applicants
    voucher = (await world.client.get(f"/v1/applications/{first[2]}", headers=first[1])).json()["voucher"]
    assert (await world.client.get(f"/v1/applications/{second[2]}", headers=second[1])).json()["waitlist_position"] == 1
    # the saga: assign, a second request is rejected, end releases, the same child re-uses it (club change)
    enrolment = uuid.uuid4()

    def requested(enrolment_id, child, direction="sports", age_min=4, age_max=18):
        return EnrolmentRequestedV1(
            enrolment_id=enrolment_id,
            child_id=uuid.UUID(child),
            programme_id=uuid.uuid4(),
            provider_id=uuid.uuid4(),
            direction=direction,
            region_code="astana",
            district_code="yesil",
            age_min=age_min,
            age_max=age_max,
        )

    assert await world.deliver(requested(enrolment, first[0])) is Outcome.APPLIED
    await world.deliver(requested(uuid.uuid4(), first[0]))
    await world.deliver(requested(uuid.uuid4(), second[0]))
    await world.deliver(requested(uuid.uuid4(), third[0], age_min=16))
    rejections = await sql(
        world.url,
        "select payload->>'reason' from outbox where event_type = 'allocation.VoucherAssignmentRejected' order by id",
    )
    assert [x[0] for x in rejections] == ["already_assigned", "no_valid_voucher", "no_valid_voucher"]
    await world.deliver(EnrolmentEndedV1(enrolment_id=enrolment, child_id=uuid.UUID(first[0])))
    club_change = uuid.uuid4()
    await world.deliver(requested(club_change, first[0]))
    assigned = await sql(
        world.url, "select enrolment_id from voucher where voucher_id = :v", v=uuid.UUID(voucher["voucher_id"])
    )
    assert assigned[0][0] == club_change
    # ended again, grace passes: returned to the round and re-offered to the first waitlisted child
    await world.deliver(EnrolmentEndedV1(enrolment_id=club_change, child_id=uuid.UUID(first[0])))
    sweep = await world.client.post(
        "/v1/vouchers/expiry-sweep", params={"today": str(date.today() + timedelta(days=60))}, headers=world.admin
    )
    assert sweep.json() == {"expired": 1}
    second_now = (await world.client.get(f"/v1/applications/{second[2]}", headers=second[1])).json()
    assert second_now["status"] == "awarded" and second_now["voucher"]["voucher_id"] != voucher["voucher_id"]
    third_now = (await world.client.get(f"/v1/applications/{third[2]}", headers=third[1])).json()
    assert third_now["waitlist_position"] == 1
    # the new holder declines: the next waitlisted child gets it
    declined = await world.client.post(f"/v1/vouchers/{second_now['voucher']['voucher_id']}/decline", headers=second[1])
    assert declined.json() == {"re_offered": 1}
    assert (await world.client.get(f"/v1/applications/{third[2]}", headers=third[1])).json()["status"] == "awarded"
    assert (await sql(world.url, "select spent_tiyn, awarded_count from round"))[0] == (SPORTS_COST, 1)
    assert (
        await world.client.post(f"/v1/vouchers/{second_now['voucher']['voucher_id']}/decline", headers=second[1])
    ).status_code == 409


def serve(routes: dict[tuple[str, str], httpx.Response]):
    def handler(request: httpx.Request) -> httpx.Response:
        return routes.get((request.method, request.url.path), httpx.Response(404, json={"detail": "no"}))

    def client(base_url: str, token: str | None = None) -> httpx.Client:
        return httpx.Client(base_url="http://allocation", transport=httpx.MockTransport(handler))

    return client


async def test_lottery_verify_confirms_a_real_round_and_catches_tampering(world, monkeypatch) -> None:
    r = await world.round(quotas={"yesil": {"sports": 2, "creativity": 1}, "nura": {"sports": 2}})
    await world.act(r, "open")
    for district, cats, direction in [
        ("yesil", ["orphan"], "sports"),
        ("yesil", [], "sports"),
        ("yesil", [], "sports"),
        ("nura", ["large_family"], "sports"),
        ("yesil", [], "creativity"),
        ("yesil", ["disability"], "creativity"),
    ]:
        child, parent, _ = await world.child(district=district, categories=cats)
        await world.client.post(
            f"/v1/rounds/{r}/applications", json={"child_id": child, "direction": direction}, headers=parent
        )
    await world.act(r, "close")
    await world.act(r, "allocate")
    round_json = (await world.client.get(f"/v1/rounds/{r}")).json()
    published = (await world.client.get(f"/v1/rounds/{r}/published-list")).json()
    assert allocation_cmds.verify_published(published, round_json["seed_sha256"]) == []
    assert any(e["via"] == "flow" for e in published["entries"])  # nura's unused place went to yesil

    runner = CliRunner()
    routes = {
        ("GET", f"/v1/rounds/{r}"): httpx.Response(200, json=round_json),
        ("GET", f"/v1/rounds/{r}/published-list"): httpx.Response(200, json=published),
    }
    monkeypatch.setattr(allocation_cmds, "make_client", serve(routes))
    ok = runner.invoke(app, ["lottery", "verify", r, "--url", "http://x"])
    assert ok.exit_code == 0, ok.output

    tampered = copy.deepcopy(published)
    waitlisted = next(e for e in tampered["entries"] if e["allocated_outcome"] == "waitlisted")
    awarded = next(e for e in tampered["entries"] if e["allocated_outcome"] == "awarded")
    waitlisted["allocated_outcome"], awarded["allocated_outcome"] = "awarded", "waitlisted"
    routes[("GET", f"/v1/rounds/{r}/published-list")] = httpx.Response(200, json=tampered)
    assert runner.invoke(app, ["lottery", "verify", r, "--url", "http://x"]).exit_code == 1
    other_seed = copy.deepcopy(published)
    other_seed["seed_hex"] = uuid.uuid4().hex * 2
    routes[("GET", f"/v1/rounds/{r}/published-list")] = httpx.Response(200, json=other_seed)
    assert runner.invoke(app, ["lottery", "verify", r, "--url", "http://x"]).exit_code == 1
    not_yet = {("GET", f"/v1/rounds/{r}"): httpx.Response(200, json=round_json)}
    monkeypatch.setattr(allocation_cmds, "make_client", serve(not_yet))
    assert runner.invoke(app, ["lottery", "verify", r, "--url", "http://x"]).exit_code == 1


async def test_the_consumer_processes_sweep_runs_on_the_service_clock(world, consumer):
    """The periodic expiry sweep asks the chassis clock for today: a consumer process whose clock is moved past the
    voucher's deadline (QOSYM_CLOCK_OFFSET_S, development only) expires it, one whose clock is not does not."""
    r = await world.round(quotas={"yesil": {"sports": 1}}, assignment_deadline_days=10)
    await world.act(r, "open")
    child, parent, _ = await world.child(categories=["orphan"])
    applied = await world.client.post(
        f"/v1/rounds/{r}/applications", json={"child_id": child, "direction": "sports"}, headers=parent
    )
    await world.act(r, "close")
    await world.act(r, "allocate")
    day = 86_400
    [(_, in_five_days)] = (await consumer("allocation", world.url, clock_offset_s=5 * day)).periodic
    [(_, in_eleven_days)] = (await consumer("allocation", world.url, clock_offset_s=11 * day)).periodic
    assert await in_five_days() == 0
    shown = (await world.client.get(f"/v1/applications/{applied.json()['application_id']}", headers=parent)).json()
    assert shown["voucher"]["status"] == "awarded"
    assert await in_eleven_days() == 1
    shown = (await world.client.get(f"/v1/applications/{applied.json()['application_id']}", headers=parent)).json()
    assert shown["voucher"]["status"] == "expired"
    [(reason,)] = await sql(
        world.url, "select payload->>'reason' from outbox where event_type = 'allocation.VoucherExpired'"
    )
    assert reason == "not_assigned_by_deadline"


async def test_a_voucher_awarded_on_a_moved_clock_has_its_deadline_from_that_day(world, api_client):
    r = await world.round(quotas={"yesil": {"sports": 1}}, assignment_deadline_days=10)
    await world.act(r, "open")
    child, parent, _ = await world.child()
    await world.client.post(
        f"/v1/rounds/{r}/applications", json={"child_id": child, "direction": "sports"}, headers=parent
    )
    await world.act(r, "close")
    async with api_client("allocation", world.url, clock_offset_s=30 * 86_400) as later:
        assert (await later.post(f"/v1/rounds/{r}/allocate", headers=world.admin)).status_code == 200
    [voucher] = (await world.client.get(f"/v1/children/{child}/vouchers", headers=parent)).json()["items"]
    expected = min(datetime.now(UTC).date() + timedelta(days=40), date(2027, 6, 30))
    assert date.fromisoformat(voucher["assign_by"]) == expected


async def test_a_guardians_applications_are_one_page_at_a_time(world, api_client):
    r = await world.round()
    await world.act(r, "open")
    first, parent, guardian = await world.child()
    second = str(uuid.uuid4())
    await world.deliver(
        ChildRegisteredV1(
            child_id=uuid.UUID(second),
            guardian_id=uuid.UUID(guardian),
            birth_date=date(2015, 3, 1),
            sex="M",
            region_code="astana",
            district_code="nura",
        )
    )
    for child in (first, second):
        response = await world.client.post(
            f"/v1/rounds/{r}/applications", json={"child_id": child, "direction": "sports"}, headers=parent
        )
        assert response.status_code == 201, response.text
    page = (await world.client.get("/v1/applications", params={"limit": 1}, headers=parent)).json()
    assert (page["total"], page["limit"], len(page["items"])) == (2, 1, 1)
    rest = (await world.client.get("/v1/applications", params={"limit": 1, "offset": 1}, headers=parent)).json()
    assert {page["items"][0]["child_id"], rest["items"][0]["child_id"]} == {first, second}
    stranger = {"Authorization": f"Bearer {world.token('parent', str(uuid.uuid4()))}"}
    assert (await world.client.get("/v1/applications", headers=stranger)).json()["items"] == []

    await world.act(r, "close")  # allocated, each carries its score breakdown (a JSON object) and still lists
    async with api_client("allocation", world.url, clock_offset_s=30 * 86_400) as later:
        assert (await later.post(f"/v1/rounds/{r}/allocate", headers=world.admin)).status_code == 200
    listed = await world.client.get("/v1/applications", headers=parent)
    assert listed.status_code == 200, listed.text
    assert {a["child_id"] for a in listed.json()["items"]} == {first, second}
    assert all(a["status"] in ("awarded", "waitlisted") and a["rank"] for a in listed.json()["items"])


async def test_a_voucher_never_assigned_by_its_deadline_expires_and_is_reoffered(world):
    r = await world.round(quotas={"yesil": {"sports": 1}}, assignment_deadline_days=10)
    await world.act(r, "open")
    applicants = []
    for cats in (["orphan"], []):
        child, parent, _ = await world.child(categories=cats)
        response = await world.client.post(
            f"/v1/rounds/{r}/applications", json={"child_id": child, "direction": "sports"}, headers=parent
        )
        applicants.append((parent, response.json()["application_id"]))
    await world.act(r, "close")
    await world.act(r, "allocate")
    sweep = lambda days: world.client.post(  # noqa: E731
        "/v1/vouchers/expiry-sweep", params={"today": str(date.today() + timedelta(days=days))}, headers=world.admin
    )
    assert (await sweep(5)).json() == {"expired": 0}
    assert (await sweep(11)).json() == {"expired": 1}
    first = (await world.client.get(f"/v1/applications/{applicants[0][1]}", headers=applicants[0][0])).json()
    second = (await world.client.get(f"/v1/applications/{applicants[1][1]}", headers=applicants[1][0])).json()
    assert first["voucher"]["status"] == "expired"
    assert second["status"] == "awarded" and second["voucher"]["status"] == "awarded"
    reasons = await sql(
        world.url, "select payload->>'reason' from outbox where event_type = 'allocation.VoucherExpired'"
    )
    assert [x[0] for x in reasons] == ["not_assigned_by_deadline"]
    assert (await sql(world.url, "select spent_tiyn, awarded_count from round"))[0] == (SPORTS_COST, 1)


async def test_a_freed_quota_place_goes_to_the_first_waitlisted_child_of_its_own_district(world):
    """A better-ranked child of another district does not take a district's freed quota place (flow comes last)."""
    r = await world.round(quotas={"yesil": {"sports": 1}, "nura": {"sports": 1}})
    await world.act(r, "open")
    applicants = {}
    for name, district, cats in (
        ("nura_top", "nura", ["orphan"]),
        ("yesil_top", "yesil", ["orphan", "disability"]),
        ("nura_next", "nura", ["large_family"]),
        ("yesil_next", "yesil", []),
    ):
        child, parent, _ = await world.child(district=district, categories=cats)
        response = await world.client.post(
            f"/v1/rounds/{r}/applications", json={"child_id": child, "direction": "sports"}, headers=parent
        )
        applicants[name] = (child, parent, response.json()["application_id"])
    await world.act(r, "close")
    await world.act(r, "allocate")

    async def view(name):
        _, parent, application = applicants[name]
        return (await world.client.get(f"/v1/applications/{application}", headers=parent)).json()

    holder = await view("yesil_top")
    assert (await view("nura_next"))["rank"] < (await view("yesil_next"))["rank"]  # nura_next ranks higher
    declined = await world.client.post(
        f"/v1/vouchers/{holder['voucher']['voucher_id']}/decline", headers=applicants["yesil_top"][1]
    )
    assert declined.json() == {"re_offered": 1}
    assert (await view("yesil_next"))["status"] == "awarded"
    assert (await view("nura_next"))["status"] == "waitlisted" and (await view("nura_next"))["waitlist_position"] == 1
    assert (await sql(world.url, "select district_code, awarded, quota from round_quota order by 1")) == [
        ("nura", 1, 1),
        ("yesil", 1, 1),
    ]
    via = await sql(world.url, "select via from voucher where status = 'awarded' and district_code = 'yesil'")
    assert via == [("quota",)]


async def test_every_voucher_of_a_round_is_listed_for_reconciliation_and_events_carry_budget_and_deadline(world):
    r = await world.round(budget_tiyn=2 * SPORTS_COST)
    await world.act(r, "open")
    for _ in range(3):
        child, parent, _ = await world.child()
        applied = await world.client.post(
            f"/v1/rounds/{r}/applications", json={"child_id": child, "direction": "sports"}, headers=parent
        )
        assert applied.status_code == 201, applied.text
    await world.act(r, "close")
    assert (await world.act(r, "allocate")).json()["awarded"] == 2

    auditor = {"Authorization": f"Bearer {world.token('auditor')}"}
    page = await world.client.get(f"/v1/rounds/{r}/vouchers", params={"limit": 1}, headers=auditor)
    assert page.status_code == 200, page.text
    assert page.json()["total"] == 2 and len(page.json()["items"]) == 1
    listed = (await world.client.get(f"/v1/rounds/{r}/vouchers", headers=world.admin)).json()["items"]
    stored = await sql(world.url, "select voucher_id, monthly_value_tiyn, months, status from voucher order by 1")
    assert [(v["voucher_id"], v["monthly_value_tiyn"], v["months"], v["status"]) for v in listed] == [
        (str(v), value, months, status) for v, value, months, status in stored
    ]

    for role in ("parent", "provider_staff", "operator"):
        scope = {"region": "astana"} if role == "operator" else None  # an operator's token names its region
        forbidden = await world.client.get(
            f"/v1/rounds/{r}/vouchers", headers={"Authorization": f"Bearer {world.token(role, scope=scope)}"}
        )
        assert forbidden.status_code == 403, role
    missing = await world.client.get(f"/v1/rounds/{uuid.uuid4()}/vouchers", headers=auditor)
    assert missing.status_code == 404

    (opened,) = await sql(world.url, "select payload from outbox where event_type = 'allocation.RoundOpened'")
    assert opened[0]["budget_tiyn"] == 2 * SPORTS_COST
    awarded = await sql(world.url, "select payload from outbox where event_type = 'allocation.VoucherAwarded'")
    deadlines = {str(v[0]): str(v[1]) for v in await sql(world.url, "select voucher_id, assign_by from voucher")}
    assert {p[0]["voucher_id"]: p[0]["assign_by"] for p in awarded} == deadlines


async def test_rounds_are_listed_newest_first_and_by_region(world):
    first = await world.round(name="First")
    second = await world.round(name="Second")

    listed = (await world.client.get("/v1/rounds", params={"region_code": "astana"})).json()["items"]
    assert [r["round_id"] for r in listed] == [second, first]
    assert all(r["seed_hex"] is None for r in listed)
    assert (await world.client.get("/v1/rounds", params={"region_code": "atlantis"})).json()["items"] == []


async def awarded_child(world) -> tuple[str, dict, str]:
    """A child of Astana's round with an awarded sports voucher: (child_id, parent headers, voucher_id)."""
    r = await world.round(quotas={"yesil": {"sports": 1}})
    await world.act(r, "open")
    child, parent, _ = await world.child()
    response = await world.client.post(
        f"/v1/rounds/{r}/applications", json={"child_id": child, "direction": "sports"}, headers=parent
    )
    await world.act(r, "close")
    await world.act(r, "allocate")
    application = response.json()["application_id"]
    voucher = (await world.client.get(f"/v1/applications/{application}", headers=parent)).json()["voucher"]
    return child, parent, voucher["voucher_id"]


def enrolment_requested(enrolment_id, child, region="astana", replaces=None) -> EnrolmentRequestedV1:
    return EnrolmentRequestedV1(
        enrolment_id=enrolment_id,
        child_id=uuid.UUID(child),
        programme_id=uuid.uuid4(),
        provider_id=uuid.uuid4(),
        direction="sports",
        region_code=region,
        district_code="yesil" if region == "astana" else "almaly",
        age_min=4,
        age_max=18,
        replaces_enrolment_id=replaces,
    )


async def test_a_change_of_club_moves_the_voucher_only_when_it_can_be_assigned(world):
    """The saga's pivot (issue 13, finding 7): a refused change leaves the voucher with the old enrolment (it is
    never released); an accepted one moves it in one step, and the old enrolment's later end releases nothing."""
    child, _, voucher = await awarded_child(world)
    old, far, near = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert await world.deliver(enrolment_requested(old, child)) is Outcome.APPLIED

    async def holder():
        return (await sql(world.url, "select status, enrolment_id from voucher where voucher_id = :v", v=voucher))[0]

    assert await holder() == ("assigned", old)
    await world.deliver(enrolment_requested(far, child, region="almaty", replaces=old))
    rejections = await sql(
        world.url, "select payload->>'reason' from outbox where event_type = 'allocation.VoucherAssignmentRejected'"
    )
    assert [x[0] for x in rejections] == ["wrong_region"]
    assert await holder() == ("assigned", old)  # never released: nothing to compensate
    await world.deliver(enrolment_requested(near, child, replaces=old))
    assert await holder() == ("assigned", near)
    await world.deliver(EnrolmentEndedV1(enrolment_id=old, child_id=uuid.UUID(child), reason="changed_club"))
    assert await holder() == ("assigned", near)
    types = [x[0] for x in await sql(world.url, "select event_type from outbox where topic = 'allocation.voucher.v1'")]
    assert "allocation.VoucherReleased" not in types
    assigned = await sql(
        world.url, "select payload->>'enrolment_id' from outbox where event_type = 'allocation.VoucherAssigned'"
    )
    assert [x[0] for x in assigned] == [str(old), str(near)]


async def test_revoking_takes_a_reason_code_and_keeps_the_note_off_the_bus(world):
    child, parent, voucher = await awarded_child(world)
    path = f"/v1/vouchers/{voucher}/revoke"
    refused = [
        await world.client.post(path, json=body, headers=world.admin)
        for body in (
            {"reason": "the mother called, Aigerim Bekova, IIN 900101400123"},  # free text is not a code
            {"reason": "left_region", "note": "a\u0000b"},
            {"reason": "left_region", "note": "x" * 501},
            {"reason": "left_region", "note": "line\u001bescape"},
        )
    ]
    assert [r.status_code for r in refused] == [422, 422, 422, 422]
    assert all(r.headers["content-type"].startswith("application/problem+json") for r in refused)
    assert [("reason" in r.text) or ("note" in r.text) for r in refused] == [True] * 4
    assert (await sql(world.url, "select status from voucher where voucher_id = :v", v=voucher))[0][0] == "awarded"
    note = "moved to Karaganda with the family (phone call of 1 December)"
    done = await world.client.post(path, json={"reason": "left_region", "note": note}, headers=world.admin)
    assert done.status_code == 200, done.text
    stored = await sql(
        world.url, "select status, status_reason, status_note from voucher where voucher_id = :v", v=voucher
    )
    assert stored[0] == ("revoked", "left_region", note)
    [shown] = (await world.client.get(f"/v1/children/{child}/vouchers", headers=parent)).json()["items"]
    assert (shown["status"], shown["status_reason"]) == ("revoked", "left_region") and note not in str(shown)
    [(payload,)] = await sql(world.url, "select payload from outbox where event_type = 'allocation.VoucherRevoked'")
    payload = json.loads(payload) if isinstance(payload, str) else payload
    assert payload["reason"] == "left_region" and "Karaganda" not in json.dumps(payload)


async def test_recorded_times_come_from_the_service_clock_not_the_databases(world, api_client):
    """withdrawn_at, allocated_at and the VoucherAwarded / ApplicationWaitlisted events the allocation writes in SQL
    carry the service clock's time: on a clock moved 30 days ahead (QOSYM_CLOCK_OFFSET_S) they are 30 days ahead."""
    month = timedelta(days=30)
    r = await world.round(quotas={"yesil": {"sports": 1}})
    await world.act(r, "open")
    applied = {}
    for name in ("withdrawing", "awarded", "waitlisted"):
        child, parent, _ = await world.child()
        response = await world.client.post(
            f"/v1/rounds/{r}/applications", json={"child_id": child, "direction": "sports"}, headers=parent
        )
        assert response.status_code == 201, response.text
        applied[name] = (response.json()["application_id"], parent)
    async with api_client("allocation", world.url, clock_offset_s=month.total_seconds()) as later:
        earliest = datetime.now(UTC) + month
        application, parent = applied["withdrawing"]
        withdrawn = await later.post(f"/v1/applications/{application}/withdraw", headers=parent)
        assert withdrawn.status_code == 200, withdrawn.text
        await world.act(r, "close")
        assert (await later.post(f"/v1/rounds/{r}/allocate", headers=world.admin)).status_code == 200
        latest = datetime.now(UTC) + month
    [(withdrawn_at,)] = await sql(
        world.url, "select withdrawn_at from application where application_id = :a", a=uuid.UUID(application)
    )
    [(allocated_at,)] = await sql(world.url, "select allocated_at from round where round_id = :r", r=uuid.UUID(r))
    occurred = await sql(
        world.url,
        "select event_type, payload->>'occurred_at' from outbox"
        " where event_type in ('allocation.VoucherAwarded', 'allocation.ApplicationWaitlisted') order by 1",
    )
    assert [kind for kind, _ in occurred] == ["allocation.ApplicationWaitlisted", "allocation.VoucherAwarded"]
    for moment in (withdrawn_at, allocated_at, *(datetime.fromisoformat(at) for _, at in occurred)):
        assert earliest <= moment <= latest
