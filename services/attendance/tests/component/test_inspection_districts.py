"""An inspection names a district of the region, as the region's RegionConfigured lists it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from .support import api_at, auth, fetch, world

pytestmark = pytest.mark.component


async def test_an_inspection_in_a_district_that_does_not_exist_is_422_naming_district_code(
    service_db, consumer, api_client, token
) -> None:
    w = await world(service_db, consumer)
    operator = auth(token("operator", scope={"region": "astana"}))
    async with api_at(api_client, w.url, datetime.now(UTC)) as client:
        refused = await client.post(
            "/v1/regions/astana/inspections", json={"note": "check", "district_code": "atlantis"}, headers=operator
        )
        assert await fetch(w.url, "SELECT id FROM inspection") == []
        announced = await client.post(
            "/v1/regions/astana/inspections", json={"note": "check", "district_code": "yesil"}, headers=operator
        )
        whole_region = await client.post("/v1/regions/astana/inspections", json={"note": "check"}, headers=operator)
    assert refused.status_code == 422, refused.text
    assert (refused.json()["errors"][0]["field"], refused.json()["errors"][0]["type"]) == (
        "district_code",
        "unknown_district",
    )
    assert announced.status_code == 201 and whole_region.status_code == 201
