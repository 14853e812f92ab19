from datetime import UTC, datetime

import pytest

from attendance.domain.period import period_containing
from tests.support.events import message, region_event

pytestmark = pytest.mark.component
PATH = "/v1/regions/astana/current-period"


async def seeded(service_db, consumer) -> str:
    url = await service_db("attendance")
    c = await consumer("attendance", url)
    await c.deliver(message(region_event()))
    return url


@pytest.mark.parametrize("role", ["parent", "provider_staff", "operator"])
async def test_any_signed_in_person_reads_the_current_period(service_db, consumer, api_client, token, role) -> None:
    url = await seeded(service_db, consumer)
    async with api_client("attendance", url) as client:
        before = datetime.now(UTC)
        scope = {"region": "astana"} if role == "operator" else None  # an operator's token names its region
        response = await client.get(PATH, headers={"Authorization": f"Bearer {token(role, scope=scope)}"})
        after = datetime.now(UTC)

    assert response.status_code == 200
    body = response.json()
    expected = {period_containing(before, "Asia/Almaty"), period_containing(after, "Asia/Almaty")}
    assert (body["region_code"], body["timezone"]) == ("astana", "Asia/Almaty")
    starts_at = datetime.fromisoformat(body["starts_at"])
    ends_at = datetime.fromisoformat(body["ends_at"])
    assert any((p.name, p.starts_at, p.ends_at) == (body["period"], starts_at, ends_at) for p in expected)
    assert starts_at.utcoffset().total_seconds() == 0
    assert starts_at <= before < ends_at or starts_at <= after < ends_at


async def test_without_a_token_it_is_401(service_db, consumer, api_client) -> None:
    url = await seeded(service_db, consumer)
    async with api_client("attendance", url) as client:
        response = await client.get(PATH)

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_forged_token_is_401(service_db, consumer, api_client, token) -> None:
    url = await seeded(service_db, consumer)
    forged = token("parent")[:-4] + "AAAA"
    async with api_client("attendance", url) as client:
        response = await client.get(PATH, headers={"Authorization": f"Bearer {forged}"})

    assert response.status_code == 401


async def test_an_unknown_region_is_a_404_problem(service_db, api_client, token) -> None:
    url = await service_db("attendance")
    async with api_client("attendance", url) as client:
        response = await client.get(
            "/v1/regions/atlantis/current-period", headers={"Authorization": f"Bearer {token('parent')}"}
        )

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_malformed_region_code_is_a_problem_naming_the_field(service_db, api_client, token) -> None:
    url = await service_db("attendance")
    async with api_client("attendance", url) as client:
        response = await client.get(
            "/v1/regions/NOT%20A%20CODE/current-period", headers={"Authorization": f"Bearer {token('parent')}"}
        )

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == ["code"]
