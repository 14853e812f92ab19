"""Operators reach only their region (and district): every probe of issue 13, finding 1, as an Astana operator against
Almaty objects, answers like a missing object and changes nothing; an operator token without a region gets nothing;
an auditor never writes; the Almaty operator (the positive control) still succeeds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.support.events import message

from .support import (
    assigned,
    auth,
    child_of,
    fetch,
    operator_of,
    programme,
    programme_body,
    verified_provider,
)

pytestmark = pytest.mark.component
COACH_IIN = "900101300017"
ALMATY = {"region_code": "almaty", "district_code": "medeu"}
TABLES = ("provider", "staff", "facility", "attestation", "programme", "programme_staff", "enrolment", "outbox")


def in_a_year() -> str:
    return str(datetime.now(UTC).date() + timedelta(days=365))


async def snapshot(url: str) -> dict[str, list[Any]]:
    """Every row of the tables a probe could change, in a stable order."""
    return {t: sorted(map(str, await fetch(url, f"SELECT * FROM {t}"))) for t in TABLES}


async def almaty_world(client: Any, c: Any, token: Any) -> dict[str, Any]:
    """An Almaty provider with a coach, a facility, two programmes, a confirmed enrolment, and a second Almaty child."""
    provider_id, staff = await verified_provider(client, token, **ALMATY)
    coach = await client.post(
        f"/v1/providers/{provider_id}/staff",
        json={"full_name": "Aigerim S.", "iin": COACH_IIN, "role": "coach"},
        headers=staff,
    )
    facility = await client.post(
        f"/v1/providers/{provider_id}/facilities",
        json={"name": "Medeu rink", "address": "Dostyk 1", "capacity": 30},
        headers=staff,
    )
    assert coach.status_code == facility.status_code == 201, (coach.text, facility.text)
    prog = await programme(client, provider_id, staff, district_code="medeu")
    other = await programme(client, provider_id, staff, district_code="medeu", title={"kk": "Б", "ru": "Б", "en": "B"})
    child_id, guardian_id = await child_of(c, region_code="almaty", district_code="medeu")
    parent = auth(token("parent", subject=str(guardian_id)))
    requested = await client.post(
        "/v1/enrolments", json={"child_id": str(child_id), "programme_id": prog["id"]}, headers=parent
    )
    assert requested.status_code == 202, requested.text
    enrolment = requested.json()
    await c.deliver(message(assigned(enrolment)))
    second_child, _ = await child_of(c, region_code="almaty", district_code="medeu")
    return {
        "provider": str(provider_id),
        "staff": staff,
        "coach": coach.json()["id"],
        "facility": facility.json()["id"],
        "programme": prog["id"],
        "other_programme": other["id"],
        "child": str(child_id),
        "second_child": str(second_child),
        "enrolment": enrolment["id"],
    }


def probes(w: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Every route of finding 1 that takes an Almaty object, with a body that would succeed for its owner."""
    p, e = w["provider"], w["enrolment"]
    return [
        ("GET", f"/v1/providers/{p}", None),
        ("GET", f"/v1/providers/{p}/enrolments", None),
        ("GET", f"/v1/providers/{p}/attestations/expiring", None),
        ("GET", f"/v1/enrolments/{e}", None),
        ("GET", f"/v1/children/{w['child']}/enrolments", None),
        ("POST", f"/v1/providers/{p}/facilities", {"name": "Hall", "address": "Abay 2", "capacity": 20}),
        ("POST", f"/v1/providers/{p}/staff", {"full_name": "Daniyar K.", "iin": "061211600012", "role": "coach"}),
        (
            "POST",
            f"/v1/providers/{p}/attestations",
            {
                "subject_type": "staff",
                "subject_id": w["coach"],
                "kind": "criminal_record",
                "number": "CR-1",
                "valid_until": in_a_year(),
            },
        ),
        ("POST", f"/v1/providers/{p}/programmes", programme_body(district_code="medeu")),
        ("PATCH", f"/v1/programmes/{w['programme']}", {"capacity": 12}),
        ("POST", "/v1/enrolments", {"child_id": w["second_child"], "programme_id": w["programme"]}),
        ("POST", f"/v1/enrolments/{e}/change-club", {"programme_id": w["other_programme"]}),
        ("POST", f"/v1/enrolments/{e}/end", {"reason": "moved"}),
        ("POST", f"/v1/programmes/{w['programme']}/close", None),
        ("POST", f"/v1/providers/{p}/decision", {"action": "suspend", "reason": "check"}),
    ]


async def send(client: Any, headers: dict[str, str], method: str, path: str, body: dict[str, Any] | None) -> Any:
    return await client.request(method, path, json=body, headers=headers)


@pytest.fixture
async def world(service_db, consumer, api_client, token):
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        c = await consumer("catalog", url)
        yield url, client, await almaty_world(client, c, token)


async def test_an_operator_of_another_region_reaches_nothing_and_changes_nothing(world, token) -> None:
    url, client, w = world
    astana = operator_of(token, "astana")
    before = await snapshot(url)
    answers = {f"{m} {path}": (await send(client, astana, m, path, body)) for m, path, body in probes(w)}
    wrong = {probe: (r.status_code, r.text) for probe, r in answers.items() if r.status_code not in (403, 404)}
    assert wrong == {}
    assert all(r.headers["content-type"] == "application/problem+json" for r in answers.values())
    assert await snapshot(url) == before


async def test_an_operator_of_another_district_reaches_nothing_either(world, token) -> None:
    url, client, w = world
    elsewhere = operator_of(token, "almaty", "bostandyk")
    before = await snapshot(url)
    answers = {f"{m} {path}": (await send(client, elsewhere, m, path, body)) for m, path, body in probes(w)}
    assert {p: r.status_code for p, r in answers.items() if r.status_code not in (403, 404)} == {}
    assert await snapshot(url) == before


@pytest.mark.parametrize("scope", [None, {}, {"district": "medeu"}, ["region", "almaty"], "region=almaty"], ids=repr)
async def test_an_operator_token_without_a_region_gets_403_everywhere(world, token, scope) -> None:
    url, client, w = world
    unscoped = auth(token("operator", scope=scope))
    before = await snapshot(url)
    for method, path, body in [*probes(w), ("GET", "/v1/providers", None), ("GET", "/v1/complaints", None)]:
        response = await send(client, unscoped, method, path, body)
        assert response.status_code == 403, (method, path, response.text)
    assert await snapshot(url) == before


async def test_an_auditor_never_writes(world, token) -> None:
    url, client, w = world
    auditor = auth(token("auditor"))
    before = await snapshot(url)
    for method, path, body in probes(w):
        if method != "GET":
            response = await send(client, auditor, method, path, body)
            assert response.status_code == 403, (method, path, response.text)
    assert await snapshot(url) == before


async def test_listings_show_an_operator_only_their_region(world, token) -> None:
    _, client, w = world
    astana, almaty = operator_of(token, "astana"), operator_of(token, "almaty")
    assert (await client.get("/v1/providers", headers=astana)).json()["items"] == []
    assert [p["id"] for p in (await client.get("/v1/providers", headers=almaty)).json()["items"]] == [w["provider"]]
    assert [
        p["id"] for p in (await client.get("/v1/providers", headers=operator_of(token, "almaty", "x"))).json()["items"]
    ] == []


async def test_an_operator_registers_providers_only_in_their_region(service_db, api_client, token) -> None:
    url = await service_db("catalog")
    from .support import provider_body

    async with api_client("catalog", url) as client:
        foreign = await client.post("/v1/providers", json=provider_body(**ALMATY), headers=operator_of(token, "astana"))
        other_district = await client.post(
            "/v1/providers", json=provider_body(**ALMATY), headers=operator_of(token, "almaty", "bostandyk")
        )
        own = await client.post("/v1/providers", json=provider_body(**ALMATY), headers=operator_of(token, "almaty"))
    assert foreign.status_code == 422 and foreign.json()["errors"][0]["field"] == "region_code"
    assert other_district.status_code == 422 and other_district.json()["errors"][0]["field"] == "district_code"
    assert own.status_code == 201
    assert len(await fetch(url, "SELECT id FROM provider")) == 1


async def test_an_operator_enrols_only_their_regions_children_in_their_regions_programmes(world, token) -> None:
    url, client, w = world
    almaty = operator_of(token, "almaty")
    before = await snapshot(url)
    astana_programme_for_almaty_child = await client.post(
        "/v1/enrolments",
        json={"child_id": w["second_child"], "programme_id": str(uuid4())},
        headers=almaty,
    )
    assert astana_programme_for_almaty_child.status_code == 404  # no such programme
    assert await snapshot(url) == before
    own = await client.post(
        "/v1/enrolments", json={"child_id": w["second_child"], "programme_id": w["programme"]}, headers=almaty
    )
    assert own.status_code == 202, own.text


async def test_the_operator_of_the_region_and_district_still_does_everything(world, token) -> None:
    _, client, w = world
    admin = auth(token("administrator"))
    for headers in (operator_of(token, "almaty"), operator_of(token, "almaty", "medeu"), admin):
        for method, path, _body in probes(w):
            if method == "GET" and not (headers is admin and path.startswith("/v1/children/")):  # guardians, operators
                response = await send(client, headers, method, path, None)
                assert response.status_code == 200, (method, path, response.text)
    almaty = operator_of(token, "almaty", "medeu")
    facility = await send(client, almaty, *probes(w)[5][:2], probes(w)[5][2])
    patched = await client.patch(f"/v1/programmes/{w['programme']}", json={"capacity": 12}, headers=almaty)
    ended = await client.post(f"/v1/enrolments/{w['enrolment']}/end", json={"reason": "moved"}, headers=almaty)
    closed = await client.post(f"/v1/programmes/{w['programme']}/close", headers=almaty)
    assert (facility.status_code, patched.status_code, ended.status_code, closed.status_code) == (201, 200, 200, 200)
    assert UUID(facility.json()["id"])
