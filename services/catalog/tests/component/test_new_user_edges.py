"""What a new user tripped over in catalog (issue 14): staff IINs with impossible birth dates, a programme page
without its status, an end reason that repeats its code."""

from __future__ import annotations

import pytest

from .support import change_club, fetch, programme, two_clubs, verified_provider

pytestmark = pytest.mark.component


@pytest.mark.parametrize(
    ("iin", "code"),
    [
        ("901330500018", "iin_birth_date"),  # month 13
        ("800229500015", "iin_birth_date"),  # century digit 5: born 29 February 2080, in the future
    ],
)
async def test_staff_iins_the_registry_refuses_are_refused(service_db, api_client, token, iin, code) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        provider_id, staff = await verified_provider(client, token)
        refused = await client.post(
            f"/v1/providers/{provider_id}/staff", json={"full_name": "X", "iin": iin, "role": "coach"}, headers=staff
        )
    assert refused.status_code == 422, refused.text
    assert (refused.json()["errors"][0]["field"], refused.json()["errors"][0]["type"]) == ("iin", code)
    assert iin not in refused.text
    assert await fetch(url, "SELECT id FROM staff") == []


async def test_a_programme_page_shows_its_status(service_db, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        provider_id, staff = await verified_provider(client, token)
        prog = await programme(client, provider_id, staff)
        page = await client.get(f"/v1/programmes/{prog['id']}")
        search = await client.get("/v1/programmes", params={"region_code": "astana"})
    assert page.status_code == 200
    assert prog["status"] == page.json()["status"] == "published"
    assert [p["status"] for p in search.json()["items"]] == ["published"]


async def test_changing_club_without_a_reason_does_not_repeat_the_code(service_db, consumer, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        w = await two_clubs(client, consumer, token, url)
        moved = await change_club(client, w.enrolment, w.parent, w.second["id"])
        ended = await client.get(f"/v1/enrolments/{w.enrolment['id']}", headers=w.parent)
    assert moved.status_code == 202, moved.text
    assert ended.json()["reason"] == "changed_club"
