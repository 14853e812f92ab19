from datetime import UTC, datetime
from uuid import uuid4

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


# --- programmes, enrolments and guardians ---------------------------------------------------------------


async def _rows(url: str, sql: str) -> list[tuple]:
    conn = await asyncpg.connect(url)
    try:
        return [tuple(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


def _programme(programme_id, at, **overrides):
    from datetime import time

    from qosym_contracts.catalog import ProgrammePublishedV1, ProgrammeSchedule

    values = {
        "occurred_at": at,
        "programme_id": programme_id,
        "provider_id": PROVIDER,
        "direction": "sports",
        "region_code": "astana",
        "district_code": "yesil",
        "age_min": 6,
        "age_max": 12,
        "language": "kk",
        "sessions_per_month": 8,
        "price_per_month_tiyn": 1_500_000,
        "capacity": 12,
        "schedule": [ProgrammeSchedule(weekday=1, start=time(16), end=time(17))],
        "coach_ids": [COACH],
        "facility_id": FACILITY,
        "facility_capacity": 30,
    }
    values.update(overrides)
    return ProgrammePublishedV1(**values)


PROVIDER, COACH, FACILITY = uuid4(), uuid4(), uuid4()


async def test_a_programme_is_projected_with_its_coaches_and_facility(service_db, consumer) -> None:
    url = await service_db("attendance")
    c = await consumer("attendance", url)
    programme_id = uuid4()

    assert await c.deliver(message(_programme(programme_id, datetime(2026, 9, 1, tzinfo=UTC)))) is Outcome.APPLIED

    rows = await _rows(url, "SELECT provider_id, coach_ids, facility_id, facility_capacity, status FROM programme")
    assert rows == [(PROVIDER, [COACH], FACILITY, 30, "published")]


async def test_an_older_programme_state_never_overwrites_a_newer_one(service_db, consumer) -> None:
    from qosym_contracts.catalog import ProgrammeChangedV1, ProgrammeClosedV1

    url = await service_db("attendance")
    c = await consumer("attendance", url)
    programme_id = uuid4()
    newer = _programme(programme_id, datetime(2026, 9, 3, tzinfo=UTC), capacity=20)
    changed = ProgrammeChangedV1(**newer.model_dump(exclude={"event_type", "event_id"}), status="suspended")
    await c.deliver(message(changed))
    await c.deliver(message(_programme(programme_id, datetime(2026, 9, 1, tzinfo=UTC))))
    assert await _rows(url, "SELECT capacity, status FROM programme") == [(20, "suspended")]

    await c.deliver(message(ProgrammeClosedV1(programme_id=programme_id, provider_id=PROVIDER)))
    assert await _rows(url, "SELECT status FROM programme") == [("closed",)]


async def test_an_enrolment_ended_before_its_confirmation_arrived_stays_ended(service_db, consumer) -> None:
    from qosym_contracts.catalog import EnrolmentConfirmedV1, EnrolmentEndedV1

    url = await service_db("attendance")
    c = await consumer("attendance", url)
    enrolment_id, child_id = uuid4(), uuid4()
    ended_at = datetime(2026, 10, 10, tzinfo=UTC)
    await c.deliver(message(EnrolmentEndedV1(occurred_at=ended_at, enrolment_id=enrolment_id, child_id=child_id)))
    confirmed = EnrolmentConfirmedV1(
        occurred_at=datetime(2026, 9, 1, tzinfo=UTC),
        enrolment_id=enrolment_id,
        child_id=child_id,
        programme_id=uuid4(),
        provider_id=PROVIDER,
        voucher_id=uuid4(),
        direction="sports",
        region_code="astana",
        district_code="yesil",
        price_per_month_tiyn=1_500_000,
        sessions_per_month=8,
    )
    assert await c.deliver(message(confirmed)) is Outcome.APPLIED
    assert await c.deliver(message(confirmed)) is Outcome.DUPLICATE

    assert await _rows(url, "SELECT ended_at FROM enrolment") == [(ended_at,)]


async def test_guardianship_follows_established_and_ended(service_db, consumer) -> None:
    from qosym_contracts.registry import GuardianshipEndedV1, GuardianshipEstablishedV1

    url = await service_db("attendance")
    c = await consumer("attendance", url)
    child_id, guardian_id = uuid4(), uuid4()
    await c.deliver(message(GuardianshipEstablishedV1(child_id=child_id, guardian_id=guardian_id)))
    assert await _rows(url, "SELECT active FROM guardianship") == [(True,)]
    await c.deliver(message(GuardianshipEndedV1(child_id=child_id, guardian_id=guardian_id)))
    assert await _rows(url, "SELECT active FROM guardianship") == [(False,)]
