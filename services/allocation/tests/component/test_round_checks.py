"""A what-if names the unknown category, district or direction; closing before the window's end needs a reason."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from qosym_contracts.allocation import RoundClosedV1
from qosym_contracts.registry import ChildCategoriesVerifiedV1, VerifiedCategory

from .test_rounds import sql, world  # noqa: F401  (the fixture)

pytestmark = pytest.mark.component


async def allocated(world) -> str:  # noqa: F811
    r = await world.round()
    await world.act(r, "open")
    child, headers, _ = await world.child()
    applied = await world.client.post(
        f"/v1/rounds/{r}/applications", json={"child_id": child, "direction": "sports"}, headers=headers
    )
    assert applied.status_code == 201, applied.text
    await world.act(r, "close")
    assert (await world.act(r, "allocate")).status_code == 200
    return r


@pytest.mark.parametrize(
    ("what_if", "field"),
    [
        ({"weights": {"orphan": 10, "unicorn_owner": 500}}, "weights.unicorn_owner"),
        ({"quotas": {"nowhere": {"sports": 3}}}, "quotas.nowhere"),
        ({"quotas": {"yesil": {"sports": 3, "juggling": 1}}}, "quotas.yesil.juggling"),
    ],
)
async def test_a_what_if_with_unknown_codes_is_refused_naming_the_field(world, what_if, field) -> None:  # noqa: F811
    r = await allocated(world)

    response = await world.client.post(f"/v1/rounds/{r}/simulate", json=what_if, headers=world.admin)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == field


async def test_closing_before_the_window_ends_needs_a_reason_which_is_recorded_and_published(world) -> None:  # noqa: F811
    r = await world.round()
    await world.act(r, "open")

    bare = await world.client.post(f"/v1/rounds/{r}/close", headers=world.admin)
    unknown = await world.client.post(f"/v1/rounds/{r}/close", headers=world.admin, json={"reason": "bored"})
    long_note = await world.client.post(
        f"/v1/rounds/{r}/close", headers=world.admin, json={"reason": "emergency", "note": "x" * 501}
    )
    still_open = (await world.client.get(f"/v1/rounds/{r}")).json()["state"]
    closed = await world.client.post(
        f"/v1/rounds/{r}/close", headers=world.admin, json={"reason": "emergency", "note": "flooded venue"}
    )

    assert bare.status_code == 422 and bare.json()["errors"][0]["field"] == "reason"
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "reason"
    assert long_note.status_code == 422 and long_note.json()["errors"][0]["field"] == "note"
    assert still_open == "open"
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    [(by, reason, note)] = await sql(
        world.url, "select closed_by, early_close_reason, early_close_note from round where round_id = :r", r=r
    )
    assert by and (reason, note) == ("emergency", "flooded venue")  # who closed it, and why
    [(payload,)] = await sql(world.url, "select payload from outbox where event_type = 'allocation.RoundClosed'")
    event = RoundClosedV1.model_validate(payload if isinstance(payload, dict) else json.loads(payload))
    assert event.early_close_reason == "emergency"
    assert "flooded" not in json.dumps(payload)  # the note stays in allocation


async def test_a_round_closed_after_its_window_needs_no_reason(world) -> None:  # noqa: F811
    now = datetime.now(UTC)
    r = await world.round(
        application_opens_at=(now - timedelta(days=2)).isoformat(),
        application_closes_at=(now - timedelta(minutes=1)).isoformat(),
    )
    await world.act(r, "open")

    closed = await world.client.post(f"/v1/rounds/{r}/close", headers=world.admin)

    assert closed.status_code == 200, closed.text
    [(reason,)] = await sql(world.url, "select early_close_reason from round where round_id = :r", r=r)
    assert reason is None


async def test_a_decline_moves_up_its_own_queue_only_and_tells_exactly_those_who_moved(world) -> None:  # noqa: F811
    r = await world.round(quotas={"yesil": {"sports": 1, "creativity": 1}})
    await world.act(r, "open")
    applied = {}
    for direction, count in (("sports", 4), ("creativity", 3)):
        for _ in range(count):
            child, headers, _ = await world.child()
            response = await world.client.post(
                f"/v1/rounds/{r}/applications", json={"child_id": child, "direction": direction}, headers=headers
            )
            assert response.status_code == 201, response.text
            applied[response.json()["application_id"]] = (direction, headers)
    await world.act(r, "close")
    assert (await world.act(r, "allocate")).status_code == 200

    async def view(application_id: str) -> dict:
        return (await world.client.get(f"/v1/applications/{application_id}", headers=applied[application_id][1])).json()

    views = {a: await view(a) for a in applied}
    queues = {
        d: sorted(
            (v for a, v in views.items() if applied[a][0] == d and v["status"] == "waitlisted"), key=lambda v: v["rank"]
        )
        for d in ("sports", "creativity")
    }
    # positions count within the child's own district × direction: the first creativity child waits at 1, not 4
    assert [v["waitlist_position"] for v in queues["sports"]] == [1, 2, 3]
    assert [v["waitlist_position"] for v in queues["creativity"]] == [1, 2]
    waitlisted_at_allocation = await sql(
        world.url, "select count(*) from outbox where event_type = 'allocation.ApplicationWaitlisted'"
    )
    holder = next(a for a, v in views.items() if applied[a][0] == "sports" and v["status"] == "awarded")
    declined = await world.client.post(
        f"/v1/vouchers/{views[holder]['voucher']['voucher_id']}/decline", headers=applied[holder][1]
    )
    assert declined.status_code == 200, declined.text

    first, *behind = queues["sports"]
    assert (await view(first["application_id"]))["status"] == "awarded"
    assert [(await view(v["application_id"]))["waitlist_position"] for v in behind] == [1, 2]
    assert [(await view(v["application_id"]))["waitlist_position"] for v in queues["creativity"]] == [1, 2]
    told = await sql(
        world.url,
        "select payload->>'application_id', (payload->>'position')::int from outbox"
        " where event_type = 'allocation.ApplicationWaitlisted' order by id offset :n",
        n=waitlisted_at_allocation[0][0],
    )
    assert sorted(told, key=lambda t: t[1]) == [(behind[0]["application_id"], 1), (behind[1]["application_id"], 2)]
    published = (await world.client.get(f"/v1/rounds/{r}/published-list")).json()["entries"]
    by_rank = {e["rank"]: e for e in published}
    reoffered = by_rank[first["rank"]]
    assert (reoffered["outcome"], reoffered["waitlist_position"]) == ("offered_from_waitlist", None)
    assert (reoffered["allocated_outcome"], reoffered["allocated_waitlist_position"]) == ("waitlisted", 1)
    assert [by_rank[v["rank"]]["waitlist_position"] for v in behind] == [1, 2]
    assert [by_rank[v["rank"]]["allocated_waitlist_position"] for v in behind] == [2, 3]


async def test_the_explanation_lists_what_did_not_count_and_why_with_plurals_right(world) -> None:  # noqa: F811
    r = await world.round(quotas={"yesil": {"sports": 1}}, reference_date="2026-09-01")
    await world.act(r, "open")
    ahead, ahead_headers, _ = await world.child(categories=("orphan",))
    child, headers, _ = await world.child()
    await world.deliver(
        ChildCategoriesVerifiedV1(
            child_id=uuid.UUID(child),
            region_code="astana",
            categories=[
                VerifiedCategory(code="large_family", valid_from=date(2020, 1, 1), valid_until=date(2026, 8, 31)),
                VerifiedCategory(code="low_income", valid_from=date(2026, 10, 1)),
                VerifiedCategory(code="single_parent", valid_from=date(2020, 1, 1)),
            ],
        )
    )
    for who, h in ((ahead, ahead_headers), (child, headers)):
        applied = await world.client.post(
            f"/v1/rounds/{r}/applications", json={"child_id": who, "direction": "sports"}, headers=h
        )
        assert applied.status_code == 201, applied.text
    application = applied.json()["application_id"]
    await world.act(r, "close")
    await world.act(r, "allocate")

    shown = (await world.client.get(f"/v1/applications/{application}/explanation", headers=headers)).json()

    assert shown["outcome"] == "waitlisted"
    assert shown["score_breakdown"] == [{"category": "single_parent", "weight": 50}]
    assert shown["not_counted"] == [
        {"category": "large_family", "reason": "expired"},
        {"category": "low_income", "reason": "not_yet_valid"},
    ]
    assert "the only voucher of yesil × sports" in shown["why"] and "1 vouchers" not in shown["why"]
    assert "large_family (it ended before the reference date)" in shown["why"]
    assert "declared but not yet verified" in shown["why"]
