"""Helpers of attendance's component tests: a region, programmes, enrolments and guardians fed as events, and an
API whose clock stands at a chosen instant (QOSYM_CLOCK_OFFSET_S, as the end-to-end tests shift it)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attendance.service_layer.dependencies import Dependencies
from qosym_chassis.clock import Clock
from qosym_chassis.consumer import Outcome
from qosym_contracts.catalog import EnrolmentConfirmedV1, EnrolmentEndedV1, ProgrammePublishedV1, ProgrammeSchedule
from qosym_contracts.registry import GuardianshipEstablishedV1
from tests.support.events import message, region_event

# October 2026 in Astana (UTC+5): Mondays 5, 12, 19, 26 and Wednesdays 7, 14, 21, 28; Republic Day (Oct 25, a
# Sunday, and its observed Monday Oct 26) is a public holiday, so the Monday of the 26th is a closure day
OCTOBER = "2026-10"
MON_WED = [
    ProgrammeSchedule(weekday=1, start=time(16, 0), end=time(17, 30)),
    ProgrammeSchedule(weekday=3, start=time(16, 0), end=time(17, 30)),
]


def deps_of(sessions: async_sessionmaker[AsyncSession]) -> Dependencies:
    """The use cases' dependencies over a test's own session factory, on the real clock."""
    return Dependencies(sessions=sessions, clock=Clock())


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock time in Astana as a UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Asia/Almaty")).astimezone(UTC)


def offset_to(instant: datetime) -> int:
    return int((instant - datetime.now(UTC)).total_seconds())


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class World:
    url: str
    consumer: Any
    provider_id: UUID = field(default_factory=uuid4)
    programmes: dict[str, UUID] = field(default_factory=dict)

    async def deliver(self, event: Any) -> None:
        outcome = await self.consumer.deliver(message(event))
        assert outcome in (Outcome.APPLIED, Outcome.DUPLICATE), outcome

    async def programme(
        self,
        *,
        provider_id: UUID | None = None,
        schedule: list[ProgrammeSchedule] | None = None,
        region_code: str = "astana",
        district_code: str = "yesil",
        coach_ids: list[UUID] | None = None,
        facility_id: UUID | None = None,
        facility_capacity: int | None = None,
        capacity: int = 20,
        published_at: datetime | None = None,
    ) -> UUID:
        programme_id = uuid4()
        await self.deliver(
            ProgrammePublishedV1(
                occurred_at=published_at or utc(2026, 9, 1),
                programme_id=programme_id,
                provider_id=provider_id or self.provider_id,
                direction="sports",
                region_code=region_code,
                district_code=district_code,
                age_min=6,
                age_max=12,
                language="kk",
                sessions_per_month=8,
                price_per_month_tiyn=1_500_000,
                capacity=capacity,
                schedule=schedule if schedule is not None else MON_WED,
                coach_ids=coach_ids or [],
                facility_id=facility_id,
                facility_capacity=facility_capacity,
            )
        )
        return programme_id

    async def enrol(
        self,
        programme_id: UUID,
        *,
        child_id: UUID | None = None,
        guardian_id: UUID | None = None,
        provider_id: UUID | None = None,
        since: datetime | None = None,
        region_code: str = "astana",
        district_code: str = "yesil",
    ) -> tuple[UUID, UUID, UUID]:
        """(enrolment id, child id, guardian id) of a child confirmed in the programme ``since`` (default Sep 1)."""
        child_id = child_id or uuid4()
        guardian_id = guardian_id or uuid4()
        enrolment_id = uuid4()
        await self.deliver(GuardianshipEstablishedV1(child_id=child_id, guardian_id=guardian_id))
        await self.deliver(
            EnrolmentConfirmedV1(
                occurred_at=since or utc(2026, 9, 1),
                enrolment_id=enrolment_id,
                child_id=child_id,
                programme_id=programme_id,
                provider_id=provider_id or self.provider_id,
                voucher_id=uuid4(),
                direction="sports",
                region_code=region_code,
                district_code=district_code,
                price_per_month_tiyn=1_500_000,
                sessions_per_month=8,
            )
        )
        return enrolment_id, child_id, guardian_id

    async def end(self, enrolment_id: UUID, child_id: UUID, at: datetime) -> None:
        await self.deliver(EnrolmentEndedV1(occurred_at=at, enrolment_id=enrolment_id, child_id=child_id))


async def world(service_db: Any, consumer: Any, *regions: str) -> World:
    url = await service_db("attendance")
    c = await consumer("attendance", url)
    w = World(url=url, consumer=c)
    for code in regions or ("astana",):
        await w.deliver(region_event(region_code=code))
    return w


@asynccontextmanager
async def api_at(api_client: Any, url: str, instant: datetime) -> Any:
    async with api_client("attendance", url, clock_offset_s=offset_to(instant)) as client:
        yield client


async def fetch(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def outbox(url: str, event_type: str) -> list[dict[str, Any]]:
    import json

    rows = await fetch(url, "SELECT payload FROM outbox WHERE event_type = $1 ORDER BY id", event_type)
    return [json.loads(r["payload"]) if isinstance(r["payload"], str) else r["payload"] for r in rows]
