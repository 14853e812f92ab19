from uuid import uuid4

import pytest

from qosym_contracts.allocation import District, LocalisedName
from tests.support.events import message, region_event

from .support import (
    BIN,
    auth,
    operator_of,
    outbox_types,
    programme,
    programme_body,
    provider_body,
    verified_provider,
)

pytestmark = pytest.mark.component


async def test_a_provider_registers_is_verified_and_publishes_a_programme(service_db, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        response = await client.post("/v1/providers", json=provider_body(), headers=auth(token("provider_staff")))
        assert response.status_code == 201
        assert response.json()["status"] == "pending"
        provider_id = response.json()["id"]
        staff = auth(token("provider_staff", scope={"provider": provider_id}))

        early = await client.post(f"/v1/providers/{provider_id}/programmes", json=programme_body(), headers=staff)
        assert early.status_code == 409  # not verified yet

        verified = await client.post(
            f"/v1/providers/{provider_id}/decision", json={"action": "verify"}, headers=operator_of(token)
        )
        assert verified.json()["status"] == "verified"
        created = await client.post(f"/v1/providers/{provider_id}/programmes", json=programme_body(), headers=staff)

    assert created.status_code == 201
    body = created.json()
    assert (body["free_seats"], body["region_code"], body["price_per_month_tiyn"]) == (10, "astana", 1_500_000)
    assert await outbox_types(url) == ["catalog.ProviderVerified", "catalog.ProgrammePublished"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"bin": "080540014022"}, "bin"),
        ({"bin": "900101300017"}, "bin"),  # an IIN, not a BIN
        ({"bin": "08054001402x"}, "bin"),
        ({"bank": {"bank_name": "Halyk", "bik": "HSBKKZKX", "iban": "KZ87125KZT5004100100"}}, "iban"),
        ({"bank": {"bank_name": "Halyk", "bik": "HSBKKZKX", "iban": "KZ86125KZT500410010"}}, "iban"),
        ({"bank": {"bank_name": "Halyk", "bik": "HSBKQQKX", "iban": "KZ86125KZT5004100100"}}, "bank.bik"),
        ({"bank": {"bank_name": "Halyk", "bik": "HSBKKZK", "iban": "KZ86125KZT5004100100"}}, "bank.bik"),
        ({"region_code": "Astana!"}, "region_code"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
async def test_bad_provider_input_is_422_naming_the_field(service_db, api_client, token, overrides, field) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        response = await client.post(
            "/v1/providers", json=provider_body(**overrides), headers=auth(token("provider_staff"))
        )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert any(field in e["field"] for e in response.json()["errors"])
    assert await outbox_types(url) == []


async def test_the_same_bin_cannot_register_twice(service_db, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        await client.post("/v1/providers", json=provider_body(), headers=auth(token("provider_staff")))
        again = await client.post("/v1/providers", json=provider_body(bin=BIN), headers=auth(token("provider_staff")))
    assert again.status_code == 409


async def test_only_operators_decide_and_parents_cannot_register(service_db, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        response = await client.post("/v1/providers", json=provider_body(), headers=auth(token("provider_staff")))
        provider_id = response.json()["id"]
        staff = auth(token("provider_staff", scope={"provider": provider_id}))
        self_verify = await client.post(
            f"/v1/providers/{provider_id}/decision", json={"action": "verify"}, headers=staff
        )
        parent = await client.post("/v1/providers", json=provider_body(), headers=auth(token("parent")))
        anonymous = await client.post("/v1/providers", json=provider_body())
        bad_move = await client.post(
            f"/v1/providers/{provider_id}/decision", json={"action": "suspend"}, headers=operator_of(token)
        )
    assert (self_verify.status_code, parent.status_code, anonymous.status_code) == (403, 403, 401)
    assert bad_move.status_code == 422


async def test_another_providers_staff_sees_404(service_db, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        provider_id, staff = await verified_provider(client, token)
        created = await programme(client, provider_id, staff)
        other = auth(token("provider_staff", scope={"provider": str(uuid4())}))
        read = await client.get(f"/v1/providers/{provider_id}", headers=other)
        publish = await client.post(f"/v1/providers/{provider_id}/programmes", json=programme_body(), headers=other)
        change = await client.patch(f"/v1/programmes/{created['id']}", json={"capacity": 3}, headers=other)
        close = await client.post(f"/v1/programmes/{created['id']}/close", headers=other)
        own = await client.get(f"/v1/providers/{provider_id}", headers=staff)
    assert (read.status_code, publish.status_code, change.status_code, close.status_code) == (404, 404, 404, 404)
    assert own.status_code == 200


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"price_per_month_tiyn": 1500.5}, "price_per_month_tiyn"),
        ({"price_per_month_tiyn": "1500"}, "price_per_month_tiyn"),
        ({"capacity": 0}, "capacity"),
        ({"age_min": 12, "age_max": 6}, "age_max"),
        ({"schedule": [{"weekday": 1, "start": "17:00", "end": "16:00"}]}, "schedule.0.end"),
        ({"schedule": [{"weekday": 8, "start": "16:00", "end": "17:00"}]}, "schedule.0.weekday"),
        (
            {
                "schedule": [
                    {"weekday": 1, "start": "16:00", "end": "17:00"},
                    {"weekday": 1, "start": "16:30", "end": "17:30"},
                ]
            },
            "schedule.1",
        ),
        ({"direction": "gambling"}, "direction"),
        ({"title": {"kk": "a", "ru": "b"}}, "title.en"),
        ({"lat": 91}, "lat"),
    ],
)
async def test_bad_programme_input_is_422_naming_the_field(service_db, api_client, token, overrides, field) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        provider_id, staff = await verified_provider(client, token)
        response = await client.post(
            f"/v1/providers/{provider_id}/programmes", json=programme_body(**overrides), headers=staff
        )
    assert response.status_code == 422, response.text
    assert field in {e["field"] for e in response.json()["errors"]}
    assert await outbox_types(url) == ["catalog.ProviderVerified"]


async def test_a_programme_is_changed_and_closed(service_db, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        provider_id, staff = await verified_provider(client, token)
        created = await programme(client, provider_id, staff)
        changed = await client.patch(
            f"/v1/programmes/{created['id']}", json={"capacity": 4, "price_per_month_tiyn": 1_200_000}, headers=staff
        )
        bad = await client.patch(f"/v1/programmes/{created['id']}", json={"age_min": 20}, headers=staff)
        closed = await client.post(f"/v1/programmes/{created['id']}/close", headers=staff)
        public = await client.get(f"/v1/programmes/{created['id']}")
    assert changed.status_code == 200
    assert (changed.json()["capacity"], changed.json()["free_seats"]) == (4, 4)
    assert bad.status_code == 422
    assert closed.json() == {"enrolments_ended": 0}
    assert public.status_code == 404
    assert await outbox_types(url) == [
        "catalog.ProviderVerified",
        "catalog.ProgrammePublished",
        "catalog.ProgrammeChanged",
        "catalog.ProgrammeClosed",
    ]


async def test_a_suspended_providers_programmes_leave_the_search(service_db, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        provider_id, staff = await verified_provider(client, token)
        await programme(client, provider_id, staff)
        before = await client.get("/v1/programmes", params={"region_code": "astana"})
        suspended = await client.post(
            f"/v1/providers/{provider_id}/decision",
            json={"action": "suspend", "reason": "expired licence"},
            headers=operator_of(token),
        )
        after = await client.get("/v1/programmes", params={"region_code": "astana"})
    assert before.json()["total"] == 1
    assert suspended.json()["status"] == "suspended"
    assert after.json()["total"] == 0
    assert (await outbox_types(url))[-1] == "catalog.ProviderSuspended"


async def test_search_filters_sorts_pages_and_measures_distance(service_db, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        provider_id, staff = await verified_provider(client, token)
        near = await programme(client, provider_id, staff, price_per_month_tiyn=2_000_000)
        far = await programme(
            client,
            provider_id,
            staff,
            direction="intellectual",
            language="ru",
            age_min=10,
            age_max=14,
            lat=51.0900,
            lon=71.4000,
            price_per_month_tiyn=900_000,
            district_code="nura",
        )
        everything = await client.get("/v1/programmes", params={"lat": 51.1282, "lon": 71.4304})
        cheap = await client.get("/v1/programmes", params={"max_price_tiyn": 1_000_000})
        by_age = await client.get("/v1/programmes", params={"age": 8})
        by_direction = await client.get("/v1/programmes", params={"direction": "intellectual", "language": "ru"})
        by_district = await client.get("/v1/programmes", params={"district_code": "nura"})
        nearby = await client.get("/v1/programmes", params={"lat": 51.1282, "lon": 71.4304, "radius_km": 1})
        priciest = await client.get("/v1/programmes", params={"sort": "-price", "limit": 1, "offset": 0})
        second = await client.get("/v1/programmes", params={"sort": "-price", "limit": 1, "offset": 1})
        bad = await client.get("/v1/programmes", params={"lat": 51.1})
        bad_sort = await client.get("/v1/programmes", params={"sort": "distance"})
    items = everything.json()["items"]
    assert [i["id"] for i in items] == [near["id"], far["id"]]
    assert items[0]["distance_km"] == pytest.approx(0, abs=0.01)
    assert 4 < items[1]["distance_km"] < 6
    assert [i["id"] for i in cheap.json()["items"]] == [far["id"]]
    assert [i["id"] for i in by_age.json()["items"]] == [near["id"]]
    assert [i["id"] for i in by_direction.json()["items"]] == [far["id"]]
    assert [i["id"] for i in by_district.json()["items"]] == [far["id"]]
    assert [i["id"] for i in nearby.json()["items"]] == [near["id"]]
    assert [i["id"] for i in priciest.json()["items"]] == [near["id"]]
    assert [i["id"] for i in second.json()["items"]] == [far["id"]]
    assert priciest.json()["total"] == 2
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "lon"
    assert bad_sort.status_code == 422 and bad_sort.json()["errors"][0]["field"] == "sort"


async def test_search_is_cached_and_a_change_invalidates_it(service_db, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        provider_id, staff = await verified_provider(client, token, region_code="cache_test")
        created = await programme(client, provider_id, staff)
        first = await client.get("/v1/programmes", params={"region_code": "cache_test"})
        await _set_title_behind_the_apis_back(url, created["id"])
        cached = await client.get("/v1/programmes", params={"region_code": "cache_test"})
        await client.patch(f"/v1/programmes/{created['id']}", json={"capacity": 7}, headers=staff)
        fresh = await client.get("/v1/programmes", params={"region_code": "cache_test"})
    assert first.json()["items"][0]["title"]["en"] == "Hockey"
    assert cached.json()["items"][0]["title"]["en"] == "Hockey"  # answered from Redis
    assert fresh.json()["items"][0]["title"]["en"] == "Changed"
    assert fresh.json()["items"][0]["capacity"] == 7


async def _set_title_behind_the_apis_back(url: str, programme_id: str) -> None:
    from .support import fetch

    await fetch(
        url,
        "UPDATE programme SET title = jsonb_set(title, '{en}', '\"Changed\"') WHERE id = $1 RETURNING id",
        __import__("uuid").UUID(programme_id),
    )


async def test_operators_see_and_decide_only_the_providers_of_their_region(service_db, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        registered = await client.post("/v1/providers", json=provider_body(), headers=auth(token("provider_staff")))
        provider_id = registered.json()["id"]
        astana = auth(token("operator", scope={"region": "astana"}))
        almaty = auth(token("operator", scope={"region": "almaty"}))

        queue = await client.get("/v1/providers", params={"status": "pending"}, headers=astana)
        elsewhere = await client.get("/v1/providers", params={"status": "pending"}, headers=almaty)
        by_bin = await client.get("/v1/providers", params={"bin": BIN}, headers=auth(token("administrator")))
        foreign = await client.post(f"/v1/providers/{provider_id}/decision", json={"action": "verify"}, headers=almaty)
        parent = await client.get("/v1/providers", headers=auth(token("parent")))
        bad = await client.get("/v1/providers", params={"bin": "12345"}, headers=astana)
        still = await client.get("/v1/providers", params={"status": "pending"}, headers=astana)
        verified = await client.post(f"/v1/providers/{provider_id}/decision", json={"action": "verify"}, headers=astana)

    assert [p["id"] for p in queue.json()["items"]] == [provider_id]
    assert elsewhere.json()["items"] == []
    assert [p["id"] for p in by_bin.json()["items"]] == [provider_id]
    assert foreign.status_code == 404  # outside the operator's region: as if it did not exist
    assert [p["status"] for p in still.json()["items"]] == ["pending"]  # and nothing changed
    assert parent.status_code == 403
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "bin"
    assert verified.json()["status"] == "verified"


async def test_places_that_do_not_exist_are_refused_and_the_bin_stays_free(
    service_db, api_client, consumer, token
) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        nowhere = await client.post(
            "/v1/providers", json=provider_body(region_code="nowhere"), headers=auth(token("provider_staff"))
        )
        no_district = await client.post(
            "/v1/providers", json=provider_body(district_code="atlantis"), headers=auth(token("provider_staff"))
        )
        assert await outbox_types(url) == []
        provider_id, staff = await verified_provider(client, token)  # the BIN was not used up
        bad_programme = await client.post(
            f"/v1/providers/{provider_id}/programmes", json=programme_body(district_code="medeu"), headers=staff
        )
        before = await client.post(
            "/v1/providers",
            json=provider_body(bin="120340012345", region_code="karaganda", district_code="oktyabr"),
            headers=auth(token("provider_staff")),
        )
        c = await consumer("catalog", url)
        await c.deliver(
            message(
                region_event(
                    region_code="karaganda",
                    districts=[District(code="oktyabr", name=LocalisedName(en="Oktyabr", kk="Октябрь", ru="Октябрь"))],
                )
            )
        )
        after = await client.post(
            "/v1/providers",
            json=provider_body(bin="120340012345", region_code="karaganda", district_code="oktyabr"),
            headers=auth(token("provider_staff")),
        )
    for refused, field, code in (
        (nowhere, "region_code", "unknown_region"),
        (no_district, "district_code", "unknown_district"),
        (bad_programme, "district_code", "unknown_district"),  # a district of another region
        (before, "region_code", "unknown_region"),
    ):
        assert refused.status_code == 422, refused.text
        assert (refused.json()["errors"][0]["field"], refused.json()["errors"][0]["type"]) == (field, code)
    assert after.status_code == 201, after.text


async def test_a_provider_lists_its_own_programmes_whatever_their_status(service_db, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        provider_id, staff = await verified_provider(client, token)
        first = await programme(client, provider_id, staff)
        second = await programme(client, provider_id, staff, capacity=12)
        closed = await client.post(f"/v1/programmes/{first['id']}/close", headers=staff)
        assert closed.status_code == 200, closed.text
        own = await client.get(f"/v1/providers/{provider_id}/programmes", headers=staff)
        operator = await client.get(f"/v1/providers/{provider_id}/programmes", headers=operator_of(token))
        stranger = auth(token("provider_staff", scope={"provider": str(uuid4())}))
        foreign = await client.get(f"/v1/providers/{provider_id}/programmes", headers=stranger)
        searched = await client.get("/v1/programmes", params={"region_code": "astana"})
    assert own.status_code == 200, own.text
    assert own.json()["total"] == 2
    assert [(p["id"], p["status"]) for p in own.json()["items"]] == [
        (second["id"], "published"),
        (first["id"], "closed"),
    ]
    assert own.json()["items"][0]["free_seats"] == 12
    assert operator.status_code == 200 and operator.json()["total"] == 2
    assert foreign.status_code == 404
    assert [p["id"] for p in searched.json()["items"]] == [second["id"]]  # the search shows only the published one
