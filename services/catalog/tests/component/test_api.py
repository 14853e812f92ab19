import pytest

from qosym_chassis.consumer import IncomingMessage
from qosym_contracts.allocation import ConsultationPoint

from .test_consumers import region_event

pytestmark = pytest.mark.component

POINTS = [
    ConsultationPoint(name="School-Lyceum No. 85", address="Qabanbay Batyr Ave., 56", district="nura"),
    ConsultationPoint(name="Art School No. 2", address="Dostyk St., 13", district="yesil"),
    ConsultationPoint(name="Al-Farabi Palace", address="B. Momyshuly Ave., 5", district="yesil"),
]


async def seeded(service_db, consumer) -> str:
    url = await service_db("catalog")
    c = await consumer("catalog", url)
    event = region_event(points=POINTS)
    await c.deliver(IncomingMessage(topic=event.topic, body=event.model_dump_json().encode()))
    return url


async def test_anyone_lists_a_regions_points_ordered_by_district_and_name(service_db, consumer, api_client) -> None:
    url = await seeded(service_db, consumer)
    async with api_client("catalog", url) as client:
        response = await client.get("/v1/consultation-points", params={"region_code": "astana"})

    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 3
    assert [(p["district"], p["name"]) for p in body["items"]] == [
        ("nura", "School-Lyceum No. 85"),
        ("yesil", "Al-Farabi Palace"),
        ("yesil", "Art School No. 2"),
    ]
    assert body["items"][0] == {
        "region_code": "astana",
        "district": "nura",
        "name": "School-Lyceum No. 85",
        "address": "Qabanbay Batyr Ave., 56",
        "opening_days": ["saturday", "sunday"],
    }


async def test_points_of_one_district(service_db, consumer, api_client) -> None:
    url = await seeded(service_db, consumer)
    async with api_client("catalog", url) as client:
        response = await client.get(
            "/v1/consultation-points", params={"region_code": "astana", "district_code": "yesil"}
        )

    assert response.status_code == 200
    assert [p["name"] for p in response.json()["items"]] == ["Al-Farabi Palace", "Art School No. 2"]


async def test_points_are_paged(service_db, consumer, api_client) -> None:
    url = await seeded(service_db, consumer)
    async with api_client("catalog", url) as client:
        response = await client.get(
            "/v1/consultation-points", params={"region_code": "astana", "limit": 1, "offset": 1}
        )

    body = response.json()
    assert (body["total"], body["limit"], body["offset"]) == (3, 1, 1)
    assert [p["name"] for p in body["items"]] == ["Al-Farabi Palace"]


async def test_an_unknown_region_is_an_empty_page(service_db, api_client) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        response = await client.get("/v1/consultation-points", params={"region_code": "atlantis"})

    assert response.status_code == 200
    assert response.json()["items"] == []
    assert response.json()["total"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "region_code"),
        ({"region_code": "Astana; DROP TABLE"}, "region_code"),
        ({"region_code": "astana", "district_code": "x" * 100}, "district_code"),
        ({"region_code": "astana", "limit": 0}, "limit"),
        ({"region_code": "astana", "offset": -1}, "offset"),
    ],
)
async def test_bad_input_is_a_problem_naming_the_field(service_db, api_client, params, field) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        response = await client.get("/v1/consultation-points", params=params)

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in {e["field"] for e in response.json()["errors"]}
