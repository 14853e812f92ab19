from typing import Any

import asyncpg
import pytest

from qosym_chassis.consumer import IncomingMessage, Outcome
from qosym_contracts.allocation import ConsultationPoint, District, LocalisedName, RegionConfiguredV1

pytestmark = pytest.mark.component


def region_event(
    revision: int = 1, points: list[ConsultationPoint] | None = None, **overrides: Any
) -> RegionConfiguredV1:
    values: dict[str, Any] = {
        "region_code": "astana",
        "revision": revision,
        "name": LocalisedName(en="Astana", kk="Астана", ru="Астана"),
        "timezone": "Asia/Almaty",
        "districts": [
            District(code="yesil", name=LocalisedName(en="Yesil", kk="Есіл", ru="Есиль")),
            District(code="nura", name=LocalisedName(en="Nura", kk="Нұра", ru="Нура")),
        ],
        "consultation_points": points
        if points is not None
        else [
            ConsultationPoint(name="School-Lyceum No. 85", address="Qabanbay Batyr Ave., 56", district="nura"),
            ConsultationPoint(name="Art School No. 2", address="Dostyk St., 13", district="yesil"),
        ],
        "directions": ["sports"],
        "child_age_min": 4,
        "child_age_max": 18,
        "voucher_monthly_value_tiyn": {"sports": 1_500_000},
        "voucher_months": 9,
        "priority_weights": {"orphan": 120},
        "budget_tiyn": 250_000_000_000,
        "direction_quotas": {"sports": 1.0},
    }
    values.update(overrides)
    return RegionConfiguredV1(**values)


def message(event: RegionConfiguredV1) -> IncomingMessage:
    return IncomingMessage(topic=event.topic, body=event.model_dump_json().encode())


async def points(url: str) -> list[tuple[str, int, str, str]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT region_code, revision, district, name FROM consultation_point ORDER BY district, name"
        )
    finally:
        await conn.close()
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_a_configured_region_brings_its_consultation_points(service_db, consumer) -> None:
    url = await service_db("catalog")
    c = await consumer("catalog", url)

    assert await c.deliver(message(region_event())) is Outcome.APPLIED

    assert await points(url) == [
        ("astana", 1, "nura", "School-Lyceum No. 85"),
        ("astana", 1, "yesil", "Art School No. 2"),
    ]


async def test_a_redelivered_event_changes_nothing(service_db, consumer) -> None:
    url = await service_db("catalog")
    c = await consumer("catalog", url)
    event = region_event()
    await c.deliver(message(event))

    assert await c.deliver(message(event)) is Outcome.DUPLICATE
    assert len(await points(url)) == 2


async def test_the_same_revision_replayed_under_a_new_event_id_adds_nothing(service_db, consumer) -> None:
    url = await service_db("catalog")
    c = await consumer("catalog", url)
    await c.deliver(message(region_event(revision=1)))

    assert await c.deliver(message(region_event(revision=1))) is Outcome.APPLIED
    assert len(await points(url)) == 2


async def test_a_newer_revision_replaces_the_points_of_the_region(service_db, consumer) -> None:
    url = await service_db("catalog")
    c = await consumer("catalog", url)
    await c.deliver(message(region_event(revision=1)))
    moved = [ConsultationPoint(name="Palace of Schoolchildren", address="A. Mambetov St., 1", district="yesil")]

    await c.deliver(message(region_event(revision=2, points=moved)))

    assert await points(url) == [("astana", 2, "yesil", "Palace of Schoolchildren")]


async def test_an_older_revision_never_overwrites_a_newer_one(service_db, consumer) -> None:
    url = await service_db("catalog")
    c = await consumer("catalog", url)
    newer = [ConsultationPoint(name="Palace of Schoolchildren", address="A. Mambetov St., 1", district="yesil")]
    await c.deliver(message(region_event(revision=3, points=newer)))

    await c.deliver(message(region_event(revision=2)))

    assert await points(url) == [("astana", 3, "yesil", "Palace of Schoolchildren")]


async def test_a_region_without_points_empties_its_list(service_db, consumer) -> None:
    url = await service_db("catalog")
    c = await consumer("catalog", url)
    await c.deliver(message(region_event(revision=1)))

    await c.deliver(message(region_event(revision=2, points=[])))

    assert await points(url) == []


async def test_regions_are_independent(service_db, consumer) -> None:
    url = await service_db("catalog")
    c = await consumer("catalog", url)
    await c.deliver(message(region_event(revision=5)))

    await c.deliver(message(region_event(revision=1, region_code="almaty")))

    assert [p[0] for p in await points(url)].count("astana") == 2
    assert [p[0] for p in await points(url)].count("almaty") == 2


async def test_malformed_bytes_become_a_dead_letter(service_db, consumer) -> None:
    url = await service_db("catalog")
    c = await consumer("catalog", url)

    outcome = await c.deliver(IncomingMessage(topic=RegionConfiguredV1.topic, body=b"{not json"))

    assert outcome is Outcome.DEAD_LETTERED
    assert await points(url) == []
