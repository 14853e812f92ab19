"""The set-based SQL allocation gives exactly the outcomes of the pure rules in domain/ranking.py."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from allocation.domain.ranking import Candidate, Policy, allocate

pytestmark = pytest.mark.component
REGIONS = Path(__file__).resolve().parents[4] / "deploy" / "regions"
DISTRICTS = ["yesil", "nura", "almaty"]
DIRECTIONS = ["sports", "creativity", "intellectual"]
CATEGORIES = ["orphan", "large_family", "disability", "low_income"]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
async def test_sql_allocation_equals_the_pure_rules(service_db, api_client, token, seed):
    rng = random.Random(seed)
    url = await service_db("allocation")
    admin = {"Authorization": f"Bearer {token('administrator')}"}
    now = datetime.now(UTC)
    quotas = {d: {x: rng.randint(0, 6) for x in DIRECTIONS} for d in DISTRICTS}
    quotas["yesil"]["sports"] += 1
    cost = {"sports": 1_500_000 * 9, "creativity": 1_200_000 * 9, "intellectual": 1_200_000 * 9}
    body = {
        "region_code": "astana",
        "name": "equivalence",
        "budget_tiyn": rng.randint(5, 40) * 1_200_000 * 9 + rng.randint(0, 10**6),
        "voucher_count": rng.choice([None, rng.randint(3, 30)]),
        "quotas": quotas,
        "application_opens_at": (now - timedelta(hours=1)).isoformat(),
        "application_closes_at": (now + timedelta(hours=1)).isoformat(),
        "reference_date": "2026-09-01",
        "voucher_valid_until": "2027-06-30",
    }
    async with api_client("allocation", url) as client:
        await client.put(
            "/v1/regions/astana", json=yaml.safe_load((REGIONS / "astana.yaml").read_text()), headers=admin
        )
        round_id = (await client.post("/v1/rounds", json=body, headers=admin)).json()["round_id"]
        await client.post(f"/v1/rounds/{round_id}/open", headers=admin)
        engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://"))
        async with engine.begin() as conn:
            for _ in range(rng.randint(20, 120)):
                child = uuid.uuid4()
                district, direction = rng.choice(DISTRICTS), rng.choice(DIRECTIONS)
                await conn.execute(
                    text(
                        "insert into application (application_id, public_id, round_id, child_id, guardian_id,"
                        " district_code, direction) values (:a, :p, :r, :c, :g, :d, :dir)"
                    ),
                    {
                        "a": uuid.uuid4(),
                        "p": uuid.uuid4(),
                        "r": round_id,
                        "c": child,
                        "g": uuid.uuid4(),
                        "d": district,
                        "dir": direction,
                    },
                )
                for code in rng.sample(CATEGORIES, rng.randint(0, 2)):
                    await conn.execute(
                        text("insert into child_category values (:c, :code, '2020-01-01', :until)"),
                        {"c": child, "code": code, "until": rng.choice([None, datetime(2026, 8, 1).date()])},
                    )
        await client.post(f"/v1/rounds/{round_id}/close", headers=admin, json={"reason": "schedule_change"})
        result = (await client.post(f"/v1/rounds/{round_id}/allocate", headers=admin)).json()
        published = (await client.get(f"/v1/rounds/{round_id}/published-list")).json()
        async with engine.connect() as conn:
            spent = (await conn.execute(text("select spent_tiyn from round"))).scalar_one()
        await engine.dispose()
    entries = published["entries"]
    candidates = [
        Candidate(e["public_id"], e["district_code"], e["direction"], e["score"], e["lottery_number"]) for e in entries
    ]
    policy = Policy(
        {(d, x): q for d, row in quotas.items() for x, q in row.items()},
        cost,
        body["budget_tiyn"],
        body["voucher_count"],
    )
    expected = allocate(candidates, policy)
    assert [o.key for o in expected.outcomes] == [e["public_id"] for e in entries]
    assert [(o.awarded, o.via, o.waitlist_position) for o in expected.outcomes] == [
        (e["outcome"] == "awarded", e["via"], e["waitlist_position"]) for e in entries
    ]
    assert spent == expected.spent == result["spent_tiyn"]
