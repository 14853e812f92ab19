"""What a newcomer finds after ``qosym up``: demo programmes to search, an open round, a family that applied."""

from __future__ import annotations

from pathlib import Path

import jwt
import pyotp
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


def demo_staff(home: Path) -> dict[str, dict[str, str]]:
    """The accounts table of ``<home>/demo-staff.md`` by username (what a newcomer reads to sign in)."""
    rows = [line for line in (home / "demo-staff.md").read_text().splitlines() if line.startswith("| `")]
    accounts = {}
    for row in rows:
        username, role, scope, password, secret = [cell.strip().strip("`") for cell in row.strip("|").split("|")][:5]
        accounts[username] = {"role": role, "scope": scope, "password": password, "totp_secret": secret}
    return accounts


def test_a_newcomer_signs_in_as_staff_with_the_demo_accounts_written_to_the_data_folder(running_stack, api, token):
    registry, catalog = api("registry"), api("catalog")
    path = running_stack.home / "demo-staff.md"
    assert path.stat().st_mode & 0o077 == 0, "only the stack's owner reads the passwords"
    accounts = demo_staff(running_stack.home)
    assert set(accounts) == {a["username"] for a in DEMO["staff_accounts"]}
    admin = bearer(token("administrator"))

    def provider_of(bin_: str) -> dict:
        listed = catalog.get("/v1/providers", params={"bin": bin_}, headers=admin)
        assert listed.status_code == 200, listed.text
        [found] = listed.json()["items"]
        return found

    for spec in DEMO["staff_accounts"]:
        account = accounts[spec["username"]]
        signed_in = registry.post(
            "/v1/auth/staff/login",
            json={
                "username": spec["username"],
                "password": account["password"],
                "totp": pyotp.TOTP(account["totp_secret"]).now(),
            },
        )
        assert signed_in.status_code == 200, (spec["username"], signed_in.text)
        claims = jwt.decode(signed_in.json()["access_token"], options={"verify_signature": False})
        assert claims["role"] == spec["role"]
        if "region" in spec:
            assert claims["scope"] == {"region": spec["region"]}
        if "provider_bin" in spec:
            assert claims["scope"] == {"provider": provider_of(spec["provider_bin"])["id"]}

    before = path.read_text()
    again = running_stack.seed_demo_data()
    assert [r.detail for r in again if r.what.startswith("staff")] == ["already there"] * len(DEMO["staff_accounts"])
    assert path.read_text() == before
