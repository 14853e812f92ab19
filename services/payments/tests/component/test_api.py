import pytest

from tests.support.events import message, region_event

pytestmark = pytest.mark.component
OPERATOR_SCOPE = {"region": "astana"}  # an operator's token always names its region
PATH = "/v1/regions/astana/budget"


async def seeded(service_db, consumer) -> str:
    url = await service_db("payments")
    c = await consumer("payments", url)
    await c.deliver(message(region_event(revision=2)))
    return url


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("role", ["administrator", "auditor"])
async def test_administrators_and_auditors_read_a_regions_budget(service_db, consumer, api_client, token, role) -> None:
    url = await seeded(service_db, consumer)
    async with api_client("payments", url) as client:
        response = await client.get(
            PATH, headers=bearer(token(role, scope=OPERATOR_SCOPE if role == "operator" else None))
        )

    assert response.status_code == 200
    assert response.json() == {
        "region_code": "astana",
        "revision": 2,
        "budget_tiyn": 250_000_000_000,
        "voucher_monthly_value_tiyn": {"sports": 1_500_000, "creativity": 1_200_000},
        "voucher_months": 9,
        "max_vouchers_by_direction": {"creativity": 23_148, "sports": 18_518},
    }


async def test_without_a_token_it_is_401(service_db, consumer, api_client) -> None:
    url = await seeded(service_db, consumer)
    async with api_client("payments", url) as client:
        response = await client.get(PATH)

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("role", ["parent", "operator", "provider_staff", "partner", "ops"])
async def test_other_roles_are_forbidden(service_db, consumer, api_client, token, role) -> None:
    url = await seeded(service_db, consumer)
    async with api_client("payments", url) as client:
        response = await client.get(
            PATH, headers=bearer(token(role, scope=OPERATOR_SCOPE if role == "operator" else None))
        )

    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_an_unknown_region_is_a_404_problem(service_db, api_client, token) -> None:
    url = await service_db("payments")
    async with api_client("payments", url) as client:
        response = await client.get("/v1/regions/atlantis/budget", headers=bearer(token("administrator")))

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_malformed_region_code_is_a_problem_naming_the_field(service_db, api_client, token) -> None:
    url = await service_db("payments")
    async with api_client("payments", url) as client:
        response = await client.get("/v1/regions/%24%24%24/budget", headers=bearer(token("administrator")))

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["code"]
