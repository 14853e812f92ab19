"""The allocation issue's done-when journey, tried as a new user would on ``qosym up``.

An administrator applies a region file (``qosym region apply``), creates and opens a round; parents register 200
children through the registry and an operator verifies a category for 24 of them; every child applies; the round
closes and allocates. Children with a verified category come first in their district × direction, ``qosym lottery
verify`` re-computes the draw from the public list, the explanation shows each child's breakdown, allocating again
changes nothing, and a declined voucher goes to the first waitlisted child of its district × direction (not to a
better-ranked waitlisted child of another district: a freed quota place stays in its district before any flow).

(1,000 concurrent applications against a quota of 100 is the component test
``services/allocation/tests/component/test_rounds.py::test_a_thousand_concurrent_applications_and_a_quota_of_100``.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support.people import register_person, synthetic_iin
from tests.support.stack_ops import db_value
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e
REGIONS = Path(__file__).resolve().parents[2] / "deploy" / "regions"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
REGION = "testshire"
DISTRICTS = ("yesil", "nura", "almaty")
DIRECTIONS = ("sports", "creativity")
# 60 vouchers for 200 children: every district × direction has more applicants (about 33) than places
QUOTAS = {
    "yesil": {"sports": 12, "creativity": 8},
    "nura": {"sports": 10, "creativity": 8},
    "almaty": {"sports": 12, "creativity": 10},
}
PARENTS = 10
CHILDREN = 200
CATEGORY = "large_family"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def qosym(running_stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qosym_cli.main", *args, "--home", str(running_stack.home)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "300"},
    )


def outbox_count(running_stack, event_type: str, round_id: str) -> int:
    return db_value(
        running_stack,
        "allocation",
        "select count(*) from outbox where event_type = $1 and payload->>'round_id' = $2",
        event_type,
        round_id,
    )


def test_a_round_from_region_file_to_reoffered_voucher(api, token, running_stack, tmp_path):
    registry, allocation = api("registry"), api("allocation")
    admin = bearer(token("administrator"))

    # the administrator applies a region file: a copy of Astana's with its own code and budget
    region = yaml.safe_load((REGIONS / "astana.yaml").read_text())
    region.update(
        code=REGION, name={"en": "Testshire", "kk": "Testshire", "ru": "Testshire"}, budget_tiyn=7_000_000_000
    )
    region_file = tmp_path / f"{REGION}.yaml"
    region_file.write_text(yaml.safe_dump(region, allow_unicode=True))
    applied = qosym(running_stack, "region", "apply", str(region_file))
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert f"region {REGION} added" in applied.stdout
    assert allocation.get(f"/v1/regions/{REGION}").json()["config"]["budget_tiyn"] == 7_000_000_000
    eventually(lambda: db_value(running_stack, "registry", "select count(*) from region where code = $1", REGION))

    # a round with small quotas; the budget is no constraint here (the quotas are)
    now = datetime.now(UTC)
    sports_cost = region["voucher"]["monthly_value"]["sports"] * region["voucher"]["months"]
    created = allocation.post(
        "/v1/rounds",
        json={
            "region_code": REGION,
            "name": "Testshire autumn",
            "budget_tiyn": 100 * sports_cost,
            "quotas": QUOTAS,
            "application_opens_at": (now - timedelta(minutes=5)).isoformat(),
            "application_closes_at": (now + timedelta(days=1)).isoformat(),
            "reference_date": str(date.today()),
            "voucher_valid_until": str(date.today() + timedelta(days=300)),
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    round_id = created.json()["round_id"]
    seed_sha256 = created.json()["seed_sha256"]
    assert created.json()["seed_hex"] is None
    assert allocation.post(f"/v1/rounds/{round_id}/open", headers=admin).json()["state"] == "open"

    # 200 children across 10 parents, registered through the registry
    parents = []
    for _ in range(PARENTS):
        person_id, _iin = register_person(registry, token)
        parents.append((person_id, bearer(token("parent", person_id))))

    def register(n: int) -> dict:
        person_id, headers = parents[n % PARENTS]
        born = date(2012 + n % 8, 1 + n % 12, 1 + n % 28)
        district = DISTRICTS[n % len(DISTRICTS)]
        with httpx.Client(base_url=running_stack.api_url("registry"), timeout=30) as client:
            response = client.post(
                "/v1/children",
                json={
                    "iin": synthetic_iin(born, "F" if n % 2 else "M"),
                    "region_code": REGION,
                    "district_code": district,
                },
                headers=headers,
            )
        assert response.status_code == 201, response.text
        return {
            "n": n,
            "id": response.json()["id"],
            "parent": person_id,
            "headers": headers,
            "district": district,
            "direction": DIRECTIONS[(n % 6) // 3],
            "verified": (n // 6) % 10 == 0,  # 24 children, four in every district × direction
        }

    with ThreadPoolExecutor(max_workers=8) as pool:
        children = list(pool.map(register, range(CHILDREN)))
    by_id = {c["id"]: c for c in children}
    verified = [c for c in children if c["verified"]]
    assert len(verified) == 24 and {(c["district"], c["direction"]) for c in verified} == {
        (d, x) for d in DISTRICTS for x in DIRECTIONS
    }

    # a parent declares a category with a document; an operator of the region verifies it
    operator = bearer(token("operator", scope={"region": REGION}))

    def declare_and_verify(child: dict) -> None:
        with httpx.Client(base_url=running_stack.api_url("registry"), timeout=30) as client:
            declared = client.post(
                f"/v1/children/{child['id']}/categories",
                data={"code": CATEGORY},
                files={"file": ("certificate.png", PNG, "image/png")},
                headers=child["headers"],
            )
            assert declared.status_code == 201, declared.text
            decided = client.post(
                f"/v1/categories/{declared.json()['id']}/verify",
                json={"valid_from": "2026-01-01", "valid_until": str(date.today() + timedelta(days=365))},
                headers=operator,
            )
            assert decided.status_code == 200, decided.text

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(declare_and_verify, verified))

    # allocation's projection catches up: every child, its guardian, and the 24 verified categories
    ids = [uuid.UUID(c["id"]) for c in children]
    eventually(
        lambda: (
            db_value(running_stack, "allocation", "select count(*) from child where child_id = any($1)", ids)
            == CHILDREN
        ),
        timeout_s=60,
    )
    eventually(
        lambda: (
            db_value(
                running_stack,
                "allocation",
                "select count(distinct child_id) from child_category where child_id = any($1) and code = $2",
                [uuid.UUID(c["id"]) for c in verified],
                CATEGORY,
            )
            == len(verified)
        ),
        timeout_s=60,
    )

    # every child applies (a few at a time, as parents would)
    def apply(child: dict) -> None:
        with httpx.Client(base_url=running_stack.api_url("allocation"), timeout=30) as client:
            response = client.post(
                f"/v1/rounds/{round_id}/applications",
                json={"child_id": child["id"], "direction": child["direction"]},
                headers=child["headers"],
            )
        assert response.status_code == 201, response.text
        child["application"] = response.json()["application_id"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(apply, children))
    again = allocation.post(
        f"/v1/rounds/{round_id}/applications",
        json={"child_id": children[0]["id"], "direction": children[0]["direction"]},
        headers=children[0]["headers"],
    )
    assert again.status_code == 409

    # close (the seed is revealed) and allocate: before the window ends only with a reason, told to applicants
    refused = allocation.post(f"/v1/rounds/{round_id}/close", headers=admin)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "reason"
    closed = allocation.post(
        f"/v1/rounds/{round_id}/close", headers=admin, json={"reason": "demand_met", "note": "every place requested"}
    ).json()
    assert closed["state"] == "closed" and closed["seed_hex"]
    summary = allocation.post(f"/v1/rounds/{round_id}/allocate", headers=admin)
    assert summary.status_code == 200, summary.text
    total = sum(q for cells in QUOTAS.values() for q in cells.values())
    assert summary.json()["awarded"] == total and summary.json()["waitlisted"] == CHILDREN - total

    # each parent sees their children's outcomes; verified children come first in their district × direction
    for person_id, headers in parents:
        for view in allocation.get("/v1/applications", headers=headers).json()["items"]:
            child = by_id[view["child_id"]]
            assert child["parent"] == person_id
            child.update(rank=view["rank"], score=view["score"], status=view["status"], voucher=view["voucher"])
            child["position"] = view["waitlist_position"]
    assert all("rank" in c for c in children)
    cells: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for child in children:
        cells[(child["district"], child["direction"])].append(child)
    weight = region["priority_weights"][CATEGORY]
    for cell, members in cells.items():
        members.sort(key=lambda c: c["rank"])
        with_category = [c for c in members if c["verified"]]
        assert with_category, cell
        assert all(c["score"] == weight for c in with_category) and all(
            c["score"] == 0 for c in members if not c["verified"]
        )
        assert members[: len(with_category)] == with_category, f"{cell}: a child without a category ranks higher"
        assert [c["status"] for c in members] == ["awarded"] * QUOTAS[cell[0]][cell[1]] + ["waitlisted"] * (
            len(members) - QUOTAS[cell[0]][cell[1]]
        ), cell
    assert all(c["voucher"] and c["voucher"]["status"] == "awarded" for c in children if c["status"] == "awarded")
    waitlisted = sorted((c for c in children if c["status"] == "waitlisted"), key=lambda c: c["rank"])
    for cell, members in cells.items():  # a position counts within the child's own district × direction queue
        queue = [c["position"] for c in members if c["status"] == "waitlisted"]
        assert queue == list(range(1, len(queue) + 1)), cell

    # anyone can re-run the draw from the public list and the revealed seed
    published = allocation.get(f"/v1/rounds/{round_id}/published-list").json()
    assert published["seed_sha256"] == seed_sha256 and len(published["entries"]) == CHILDREN
    assert sorted(e["rank"] for e in published["entries"]) == sorted(c["rank"] for c in children)
    for secret in ("child_id", "application_id", "guardian_id"):
        assert secret not in published["entries"][0]
    verified_draw = qosym(running_stack, "lottery", "verify", round_id)
    assert verified_draw.returncode == 0, verified_draw.stdout + verified_draw.stderr
    assert f"{CHILDREN} lottery numbers" in verified_draw.stdout and f"{total} awards" in verified_draw.stdout
    simulated = qosym(running_stack, "round", "simulate", round_id, "--weights", str(_weights(tmp_path)))
    assert simulated.returncode == 0, simulated.stdout + simulated.stderr
    assert f'"awarded_now": {total}' in simulated.stdout

    # the explanation: score by category, lottery number, cutoff and outcome
    awarded_with_category = next(c for c in children if c["verified"])
    last_waitlisted = waitlisted[-1]
    last_queue = [
        c for c in cells[(last_waitlisted["district"], last_waitlisted["direction"])] if c["status"] == "waitlisted"
    ]
    for child in (awarded_with_category, last_waitlisted, next(c for c in children if c["status"] == "awarded")):
        response = allocation.get(f"/v1/applications/{child['application']}/explanation", headers=child["headers"])
        assert response.status_code == 200, response.text
        shown = response.json()
        assert shown["rank"] == child["rank"] and len(shown["lottery_number"]) == 64
        assert shown["score"] == child["score"]
        expected = [{"category": CATEGORY, "weight": weight}] if child["verified"] else []
        assert shown["score_breakdown"] == expected
        cell = cells[(child["district"], child["direction"])]
        assert shown["quota"] == QUOTAS[child["district"]][child["direction"]]
        assert shown["cutoff"]["rank"] == cell[shown["quota"] - 1]["rank"]
        assert shown["outcome"] == child["status"]
        assert shown["why"]
    assert shown_position(allocation, last_waitlisted) == len(last_queue)
    stranger = bearer(token("parent", str(uuid.uuid4())))
    assert (
        allocation.get(f"/v1/applications/{last_waitlisted['application']}/explanation", headers=stranger).status_code
        == 404
    )

    # allocating again returns the same result and awards nothing twice
    vouchers_before = db_value(
        running_stack, "allocation", "select count(*) from voucher where round_id = $1", uuid.UUID(round_id)
    )
    events_before = db_value(running_stack, "allocation", "select count(*) from outbox")
    assert vouchers_before == total
    assert outbox_count(running_stack, "allocation.VoucherAwarded", round_id) == total
    assert outbox_count(running_stack, "allocation.ApplicationWaitlisted", round_id) == CHILDREN - total
    repeated = allocation.post(f"/v1/rounds/{round_id}/allocate", headers=admin)
    assert repeated.status_code == 200 and repeated.json() == summary.json()
    assert (
        db_value(running_stack, "allocation", "select count(*) from voucher where round_id = $1", uuid.UUID(round_id))
        == vouchers_before
    )
    assert db_value(running_stack, "allocation", "select count(*) from outbox") == events_before
    assert (
        allocation.post(f"/v1/rounds/{round_id}/close", headers=admin, json={"reason": "emergency"}).status_code == 409
    )

    # a holder declines: the first waitlisted child of that district × direction receives a new voucher, even
    # though a child of another district of the same direction ranks higher on the waitlist (quota before flow)
    best_waitlisted = waitlisted[0]
    district = next(d for d in DISTRICTS if d != best_waitlisted["district"])
    cell = cells[(district, best_waitlisted["direction"])]
    holder = next(c for c in reversed(cell) if c["status"] == "awarded")
    first_waitlisted = next(c for c in cell if c["status"] == "waitlisted")
    assert first_waitlisted["rank"] > best_waitlisted["rank"]
    declined_at = db_value(running_stack, "allocation", "select now()")
    declined = allocation.post(f"/v1/vouchers/{holder['voucher']['voucher_id']}/decline", headers=holder["headers"])
    assert declined.status_code == 200, declined.text
    assert declined.json() == {"re_offered": 1}
    moved_queue = [c for c in cell if c["status"] == "waitlisted"][1:]  # behind the child who received the voucher
    view = allocation.get(f"/v1/applications/{first_waitlisted['application']}", headers=first_waitlisted["headers"])
    assert view.json()["status"] == "awarded", view.text
    new_voucher = view.json()["voucher"]
    assert new_voucher and new_voucher["status"] == "awarded"
    assert new_voucher["voucher_id"] != holder["voucher"]["voucher_id"]
    shown = allocation.get(f"/v1/children/{first_waitlisted['id']}/vouchers", headers=first_waitlisted["headers"])
    assert [v["voucher_id"] for v in shown.json()["items"]] == [new_voucher["voucher_id"]]
    awarded_to = db_value(
        running_stack,
        "allocation",
        "select payload->>'child_id' from outbox where event_type = 'allocation.VoucherAwarded' and msg_key = $1",
        new_voucher["voucher_id"],
    )
    assert awarded_to == first_waitlisted["id"]
    assert outbox_count(running_stack, "allocation.VoucherAwarded", round_id) == total + 1
    assert outbox_count(running_stack, "allocation.VoucherReleased", round_id) == 1
    holder_view = allocation.get(f"/v1/applications/{holder['application']}", headers=holder["headers"]).json()
    assert holder_view["voucher"]["status"] == "released"
    # the waitlist moved up behind the new holder; the round's counters stay within the quotas
    assert shown_position(allocation, best_waitlisted) == 1
    assert (
        allocation.get(f"/v1/applications/{best_waitlisted['application']}", headers=best_waitlisted["headers"]).json()[
            "status"
        ]
        == "waitlisted"
    )
    assert shown_position(allocation, best_waitlisted) == 1  # another queue: its place did not move
    assert [shown_position(allocation, c) for c in moved_queue] == list(range(1, len(moved_queue) + 1))
    # exactly the applications that moved up are told their new place (ApplicationWaitlisted → notifications)
    moved_events = db_value(
        running_stack,
        "allocation",
        "select count(*) from outbox where event_type = 'allocation.ApplicationWaitlisted' and created_at > $1"
        " and payload->>'round_id' = $2",
        declined_at,
        round_id,
    )
    assert moved_events == len(moved_queue)
    # the published list shows the re-offer now, and keeps what the allocation decided for anyone to verify
    entries = allocation.get(f"/v1/rounds/{round_id}/published-list").json()["entries"]
    reoffered = [e for e in entries if e["outcome"] == "offered_from_waitlist"]
    assert len(reoffered) == 1 and reoffered[0]["waitlist_position"] is None
    assert reoffered[0]["allocated_outcome"] == "waitlisted" and reoffered[0]["allocated_waitlist_position"] == 1
    state = allocation.get(f"/v1/rounds/{round_id}").json()
    assert state["awarded_count"] == total and state["spent_tiyn"] <= state["budget_tiyn"]
    # the published draw is the allocation's and still verifies after the re-offer
    assert qosym(running_stack, "lottery", "verify", round_id).returncode == 0
    eventually(
        lambda: db_value(
            running_stack,
            "allocation",
            "select bool_and(published_at is not null) from outbox where msg_key = $1",
            new_voucher["voucher_id"],
        )
    )


def shown_position(allocation: httpx.Client, child: dict) -> int | None:
    return allocation.get(f"/v1/applications/{child['application']}", headers=child["headers"]).json()[
        "waitlist_position"
    ]


def _weights(tmp_path: Path) -> Path:
    path = tmp_path / "weights.yaml"
    path.write_text(f"{CATEGORY}: 0\n")
    return path
