"""What a newcomer finds after ``qosym up``: demo programmes to search, an open round, a family that applied."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.support.journeys import bearer

pytestmark = pytest.mark.e2e
DEMO = yaml.safe_load((Path(__file__).resolve().parents[2] / "deploy" / "demo" / "demo.yaml").read_text())


def test_the_demo_catalogue_round_and_family_are_there_and_seeding_again_changes_nothing(running_stack, api, token):
    catalog, allocation, registry = api("catalog"), api("allocation"), api("registry")

    found = catalog.get("/v1/programmes", params={"region_code": "astana", "district_code": "yesil", "age": 9})
    titles = {p["title"]["en"] for p in found.json()["items"]}
    assert {"Ice hockey", "Swimming"} <= titles
    almaty = catalog.get("/v1/programmes", params={"region_code": "almaty", "direction": "sports"}).json()["items"]
    assert "Football" in {p["title"]["en"] for p in almaty}

    rounds = {
        r["region_code"]: r for r in allocation.get("/v1/rounds").json()["items"] if r["name"] == "Demo round (open)"
    }
    assert set(rounds) == {"astana", "almaty"} and all(r["state"] == "open" for r in rounds.values())

    family = DEMO["family"]
    person = registry.post(
        "/v1/people",
        json={"iin": family["parent_iin"], "phone": family["phone"], "consent": {"data_processing": True}},
        headers=bearer(token("operator", scope={"region": DEMO["family"]["region"]})),
    )
    assert person.status_code == 200, person.text  # already registered by the seeding: the same person
    parent = bearer(token("parent", person.json()["id"]))
    applications = allocation.get("/v1/applications", headers=parent).json()["items"]
    assert len(applications) == len(family["children"])
    assert {a["round_id"] for a in applications} == {rounds["astana"]["round_id"]}

    again = running_stack.seed_demo_data()
    assert all(r.ok for r in again), again
    assert [r.detail for r in again if r.what.startswith("provider")] == ["already there"] * len(DEMO["providers"])
    assert len(allocation.get("/v1/applications", headers=parent).json()["items"]) == len(family["children"])
    assert len([r for r in allocation.get("/v1/rounds").json()["items"] if r["name"] == "Demo round (open)"]) == 2
