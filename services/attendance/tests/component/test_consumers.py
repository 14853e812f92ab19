import asyncpg
import pytest

from qosym_chassis.consumer import Outcome
from tests.support.events import message, region_event

pytestmark = pytest.mark.component


async def regions(url: str) -> list[tuple[str, int, str]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT code, revision, timezone FROM region ORDER BY code")
    finally:
        await conn.close()
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_a_configured_region_is_projected_with_its_time_zone(service_db, consumer) -> None:
    url = await service_db("attendance")
    c = await consumer("attendance", url)

    assert await c.deliver(message(region_event())) is Outcome.APPLIED

    assert await regions(url) == [("astana", 1, "Asia/Almaty")]


async def test_a_redelivered_event_changes_nothing(service_db, consumer) -> None:
    url = await service_db("attendance")
    c = await consumer("attendance", url)
    event = region_event()
    await c.deliver(message(event))

    assert await c.deliver(message(event)) is Outcome.DUPLICATE
    assert await regions(url) == [("astana", 1, "Asia/Almaty")]


async def test_a_newer_revision_updates_the_time_zone(service_db, consumer) -> None:
    url = await service_db("attendance")
    c = await consumer("attendance", url)
    await c.deliver(message(region_event(revision=1)))

    await c.deliver(message(region_event(revision=2, timezone="Asia/Aqtobe")))

    assert await regions(url) == [("astana", 2, "Asia/Aqtobe")]


async def test_an_older_revision_never_overwrites_a_newer_one(service_db, consumer) -> None:
    url = await service_db("attendance")
    c = await consumer("attendance", url)
    await c.deliver(message(region_event(revision=4, timezone="Asia/Almaty")))

    await c.deliver(message(region_event(revision=3, timezone="Asia/Aqtobe")))

    assert await regions(url) == [("astana", 4, "Asia/Almaty")]


async def test_a_time_zone_unknown_to_tzdata_is_dead_lettered(service_db, consumer) -> None:
    url = await service_db("attendance")
    c = await consumer("attendance", url)

    outcome = await c.deliver(message(region_event(timezone="Mars/Olympus_Mons")))

    assert outcome is Outcome.DEAD_LETTERED
    assert await regions(url) == []
