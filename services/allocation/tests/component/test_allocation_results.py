"""An allocation run writes its results once, into insert-only tables, and leaves the application rows as the
guardians submitted them; every read of a status, a position or an explanation comes from those results (and the
vouchers awarded since)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy.exc import DBAPIError

from qosym_contracts.registry import ChildCategoriesVerifiedV1, VerifiedCategory

from .test_region_scope import almaty, bearer  # noqa: F401  (the fixture)
from .test_rounds import sql, world  # noqa: F401  (the fixture)

pytestmark = pytest.mark.component

APPLICATION_ROWS = "select * from application order by application_id"


async def allocated_round(world, quotas: dict, applicants: list[tuple[str, str, list[str]]]) -> tuple[str, dict]:  # noqa: F811
    """A closed and allocated round; ``applicants``: (name, district, categories), all for sports."""
    r = await world.round(quotas=quotas)
    await world.act(r, "open")
    kids = {}
    for name, district, categories in applicants:
        child, headers, _ = await world.child(district=district, categories=categories)
        response = await world.client.post(
            f"/v1/rounds/{r}/applications", json={"child_id": child, "direction": "sports"}, headers=headers
        )
        assert response.status_code == 201, response.text
        kids[name] = {"id": response.json()["application_id"], "child": child, "headers": headers}
    await world.act(r, "close")
    kids["_before"] = await sql(world.url, APPLICATION_ROWS)
    allocated = await world.act(r, "allocate")
    assert allocated.status_code == 200, allocated.text
    kids["_summary"] = allocated.json()
    return r, kids


async def view(world, kid: dict) -> dict:  # noqa: F811
    response = await world.client.get(f"/v1/applications/{kid['id']}", headers=kid["headers"])
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_run_writes_one_result_per_application_and_leaves_the_applications_as_submitted(world) -> None:  # noqa: F811
    r, kids = await allocated_round(
        world,
        {"yesil": {"sports": 1}, "nura": {"sports": 1}},
        [
            ("orphan", "yesil", ["orphan"]),
            ("large", "yesil", ["large_family"]),
            ("plain", "yesil", []),
            ("nura", "nura", ["disability"]),
        ],
    )
    assert kids["_summary"]["awarded"] == 2 and kids["_summary"]["waitlisted"] == 2
    assert await sql(world.url, APPLICATION_ROWS) == kids["_before"]  # not one application row rewritten
    results = await sql(
        world.url,
        "select res.application_id, res.rank, res.score, res.outcome, res.via, res.waitlist_position,"
        " res.score_breakdown, encode(res.lottery, 'hex') from allocation_result res"
        " join allocation_run run using (run_id) where run.round_id = :r order by res.rank",
        r=uuid.UUID(r),
    )
    by_id = {str(row[0]): row for row in results}
    assert len(results) == 4 and [row[1] for row in results] == [1, 2, 3, 4]
    assert by_id[kids["orphan"]["id"]][3:7] == ("awarded", "quota", None, [["orphan", 120]])
    assert by_id[kids["nura"]["id"]][3:5] == ("awarded", "quota")
    assert by_id[kids["large"]["id"]][3:6] == ("waitlisted", None, 1)
    assert by_id[kids["plain"]["id"]][3:7] == ("waitlisted", None, 2, [])
    cutoffs = await sql(world.url, "select district_code, direction, rank, score from allocation_cutoff order by 1")
    assert cutoffs == [
        ("nura", "sports", by_id[kids["nura"]["id"]][1], by_id[kids["nura"]["id"]][2]),
        ("yesil", "sports", by_id[kids["orphan"]["id"]][1], 120),
    ]
    # what a guardian reads is the stored result
    for name in ("orphan", "large", "plain", "nura"):
        shown, stored = await view(world, kids[name]), by_id[kids[name]["id"]]
        assert (shown["rank"], shown["score"], shown["lottery_number"]) == (stored[1], stored[2], stored[7])
        assert shown["status"] == stored[3] and shown["waitlist_position"] == stored[5]
    assert (await view(world, kids["orphan"]))["voucher"]["status"] == "awarded"
    explained = (
        await world.client.get(f"/v1/applications/{kids['plain']['id']}/explanation", headers=kids["plain"]["headers"])
    ).json()
    assert (explained["outcome"], explained["waitlist_position"], explained["rank"]) == ("waitlisted", 2, 4)
    assert explained["cutoff"]["rank"] == by_id[kids["orphan"]["id"]][1] and explained["cutoff"]["score"] == 120
    assert "Waitlist position 2." in explained["why"]
    # the published list is the same ranking
    published = (await world.client.get(f"/v1/rounds/{r}/published-list")).json()["entries"]
    assert [(e["rank"], e["score"], e["lottery_number"], e["allocated_outcome"]) for e in published] == [
        (row[1], row[2], row[7], row[3]) for row in results
    ]


async def test_the_explanation_shows_what_the_run_counted_even_after_a_later_verification(world) -> None:  # noqa: F811
    _r, kids = await allocated_round(
        world, {"yesil": {"sports": 1}}, [("orphan", "yesil", ["orphan"]), ("plain", "yesil", [])]
    )
    plain = kids["plain"]
    await world.deliver(
        ChildCategoriesVerifiedV1(
            child_id=uuid.UUID(plain["child"]),
            region_code="astana",
            categories=[VerifiedCategory(code="disability", valid_from=date(2020, 1, 1))],
        )
    )
    explained = (await world.client.get(f"/v1/applications/{plain['id']}/explanation", headers=world.admin)).json()
    assert (explained["score"], explained["score_breakdown"], explained["rank"]) == (0, [], 2)
    shown = await view(world, plain)
    assert (shown["score"], shown["status"], shown["waitlist_position"]) == (0, "waitlisted", 1)


async def test_a_release_promotes_the_next_while_the_results_stay_as_allocated(world) -> None:  # noqa: F811
    _r, kids = await allocated_round(
        world,
        {"yesil": {"sports": 1}},
        [("first", "yesil", ["orphan"]), ("second", "yesil", ["large_family"]), ("third", "yesil", [])],
    )
    voucher = (await view(world, kids["first"]))["voucher"]["voucher_id"]
    assert [(await view(world, kids[n]))["waitlist_position"] for n in ("second", "third")] == [1, 2]
    declined = await world.client.post(f"/v1/vouchers/{voucher}/decline", headers=kids["first"]["headers"])
    assert declined.json() == {"re_offered": 1}
    second, third = await view(world, kids["second"]), await view(world, kids["third"])
    assert (second["status"], second["waitlist_position"], second["voucher"]["status"]) == ("awarded", None, "awarded")
    assert (third["status"], third["waitlist_position"]) == ("waitlisted", 1)
    # the run's rows are as they were written: what changed is a new voucher, nothing else
    stored = await sql(world.url, "select application_id, outcome, waitlist_position from allocation_result")
    assert {(str(a), o, p) for a, o, p in stored} == {
        (kids["first"]["id"], "awarded", None),
        (kids["second"]["id"], "waitlisted", 1),
        (kids["third"]["id"], "waitlisted", 2),
    }
    assert await sql(world.url, APPLICATION_ROWS) == kids["_before"]
    explained = (
        await world.client.get(f"/v1/applications/{kids['second']['id']}/explanation", headers=world.admin)
    ).json()
    assert explained["status"] == "awarded" and "later offered from the waitlist" in explained["why"]
    # the third is next: the new holder declines too
    declined = await world.client.post(
        f"/v1/vouchers/{second['voucher']['voucher_id']}/decline", headers=kids["second"]["headers"]
    )
    assert declined.json() == {"re_offered": 1}
    assert (await view(world, kids["third"]))["status"] == "awarded"
    assert (await sql(world.url, "select count(*) from voucher where status = 'awarded'"))[0][0] == 1


async def test_allocating_again_writes_nothing_and_answers_the_same(world) -> None:  # noqa: F811
    r, kids = await allocated_round(
        world, {"yesil": {"sports": 1}}, [("a", "yesil", ["orphan"]), ("b", "yesil", []), ("c", "yesil", [])]
    )
    counts = "select (select count(*) from allocation_run), (select count(*) from allocation_result), (select count(*) from outbox), (select count(*) from voucher)"
    before = await sql(world.url, counts)
    again = await world.act(r, "allocate")
    assert again.status_code == 200 and again.json() == kids["_summary"]
    assert await sql(world.url, counts) == before == [(1, 3, before[0][2], 1)]


async def test_results_are_insert_only(world) -> None:  # noqa: F811
    await allocated_round(world, {"yesil": {"sports": 1}}, [("a", "yesil", []), ("b", "yesil", [])])
    for statement in (
        "update allocation_result set outcome = 'awarded', via = 'quota', waitlist_position = null",
        "delete from allocation_result",
        "update allocation_cutoff set rank = 1",
        "delete from allocation_run",
    ):
        with pytest.raises(DBAPIError, match="insert-only"):
            await sql(world.url, statement)
    assert (await sql(world.url, "select count(*) from allocation_result where outcome = 'waitlisted'"))[0][0] == 1


async def test_an_operator_of_another_region_reads_no_result(almaty, token) -> None:  # noqa: F811
    _url, client, w = almaty
    application = f"/v1/applications/{w['application']}"
    for scope in ({"region": "astana"}, {"region": "almaty", "district": "bostandyq"}):
        foreign = bearer(token("operator", scope=scope))
        for path in (application, f"{application}/explanation"):
            response = await client.get(path, headers=foreign)
            assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"
    own = (await client.get(application, headers=bearer(token("operator", scope={"region": "almaty"})))).json()
    assert (own["status"], own["rank"]) == ("awarded", 1)  # the positive control reads the run's result
    assert (await client.get(f"{application}/explanation", headers=bearer(token("administrator")))).json()["rank"] == 1
