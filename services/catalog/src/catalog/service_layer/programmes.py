"""Programmes: publish, change, close, suspension while attestations lapse, and the public search."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Float, and_, asc, cast, desc, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.adapters.cache import SearchCache
from catalog.adapters.orm import enrolment, programme, provider
from catalog.domain.programmes import RuleBroken, Slot, check_age_band, check_capacity, check_schedule
from catalog.service_layer import enrolments, handlers, quality, staff
from catalog.service_layer.access import Caller
from catalog.service_layer.providers import Sessions, load
from qosym_chassis import outbox
from qosym_chassis.errors import Conflict, NotFound
from qosym_contracts.allocation import LocalisedName
from qosym_contracts.catalog import (
    ProgrammeChangedV1,
    ProgrammeClosedV1,
    ProgrammePublishedV1,
    ProgrammeSchedule,
)


def _slots(schedule: list[dict[str, Any]]) -> list[Slot]:
    return [Slot(s["weekday"], _time(s["start"]), _time(s["end"])) for s in schedule]


def _time(value: Any) -> time:
    return value if isinstance(value, time) else time.fromisoformat(str(value))


async def programme_event(
    session: AsyncSession, cls: type[ProgrammePublishedV1], row: dict[str, Any]
) -> ProgrammePublishedV1:
    """The programme's full state (with its coaches and the facility's capacity) as an event of ``cls``."""
    extra = {"status": row["status"]} if cls is ProgrammeChangedV1 and row.get("status") == "suspended" else {}
    coaches = await staff.coaches_of(session, row["id"])
    return cls(
        **extra,
        programme_id=row["id"],
        provider_id=row["provider_id"],
        direction=row["direction"],
        region_code=row["region_code"],
        district_code=row["district_code"],
        age_min=row["age_min"],
        age_max=row["age_max"],
        language=row["language"],
        sessions_per_month=row["sessions_per_month"],
        price_per_month_tiyn=row["price_per_month_tiyn"],
        capacity=row["capacity"],
        schedule=[ProgrammeSchedule(**s) for s in row["schedule"]],
        title=LocalisedName(**row["title"]),
        coach_ids=sorted(coaches, key=str),
        facility_id=row["facility_id"],
        facility_capacity=await staff.facility_capacity(session, row["facility_id"]),
    )


def _check(values: dict[str, Any]) -> None:
    check_schedule(_slots(values["schedule"]))
    check_age_band(values["age_min"], values["age_max"])


async def _owned(session: AsyncSession, caller: Caller, programme_id: UUID, *, lock: bool) -> dict[str, Any]:
    query = select(programme).where(programme.c.id == programme_id)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).mappings().first()
    if row is None or not caller.manages_programme(row):
        raise NotFound("no such programme")
    return dict(row)


def _staffing(values: dict[str, Any]) -> tuple[list[UUID] | None, dict[str, Any]]:
    """Split the coach list off the programme's columns (UUIDs back from their JSON form)."""
    values = dict(values)
    coaches = values.pop("coach_ids", None)
    if values.get("facility_id") is not None:
        values["facility_id"] = UUID(str(values["facility_id"]))
    return ([UUID(str(c)) for c in coaches] if coaches is not None else None), values


async def publish(
    sessions: Sessions, caller: Caller, provider_id: UUID, values: dict[str, Any], today: date
) -> dict[str, Any]:
    _check(values)
    coaches, values = _staffing(values)
    async with sessions() as session, session.begin():
        owner = await load(session, provider_id)
        if owner is None or not caller.manages_provider(owner):
            raise NotFound("no such provider")
        if owner["status"] != "verified":
            raise Conflict(f"the provider is {owner['status']}: only a verified provider publishes programmes")
        await handlers.check_place(session, owner["region_code"], values["district_code"])
        await staff.check_can_run(
            session,
            provider_id,
            coaches or [],
            values.get("facility_id"),
            values["schedule"],
            today,
            capacity=values["capacity"],
        )
        row = (
            (
                await session.execute(
                    insert(programme)
                    .values(id=uuid4(), provider_id=provider_id, region_code=owner["region_code"], **values)
                    .returning(*programme.c)
                )
            )
            .mappings()
            .one()
        )
        await staff.assign_coaches(session, row["id"], coaches or [])
        await outbox.add_event(session, await programme_event(session, ProgrammePublishedV1, dict(row)))
        return dict(row)


async def change(
    sessions: Sessions, caller: Caller, programme_id: UUID, changes: dict[str, Any], today: date
) -> dict[str, Any]:
    coaches, changes = _staffing(changes)
    async with sessions() as session, session.begin():
        current = await _owned(session, caller, programme_id, lock=True)
        if current["status"] == "closed":
            raise Conflict("a closed programme cannot be changed")
        merged = {**current, **changes}
        _check(merged)
        if "capacity" in changes:
            check_capacity(changes["capacity"], current["reserved"])
        if coaches is None:
            coaches = await staff.coaches_of(session, programme_id)
        await staff.check_can_run(
            session,
            current["provider_id"],
            coaches,
            merged["facility_id"],
            merged["schedule"],
            today,
            programme_id,
            capacity=merged["capacity"],
        )
        await staff.assign_coaches(session, programme_id, coaches)
        # check_can_run passed: every coach and the facility are attested, so a suspended programme runs again
        row = (
            (
                await session.execute(
                    update(programme)
                    .where(programme.c.id == programme_id)
                    .values(**changes, status="published", updated_at=func.now())
                    .returning(*programme.c)
                )
            )
            .mappings()
            .one()
        )
        await outbox.add_event(session, await programme_event(session, ProgrammeChangedV1, dict(row)))
        return dict(row)


async def close(sessions: Sessions, caller: Caller, programme_id: UUID, *, now: datetime) -> int:
    """Close the programme and end every active enrolment in it (their vouchers are released)."""
    async with sessions() as session, session.begin():
        current = await _owned(session, caller, programme_id, lock=True)
        if current["status"] == "closed":
            return 0
        active = (
            (
                await session.execute(
                    select(enrolment.c.id).where(
                        enrolment.c.programme_id == programme_id, enrolment.c.status.in_(("requested", "confirmed"))
                    )
                )
            )
            .scalars()
            .all()
        )
        for enrolment_id in active:
            await enrolments.end_in(session, enrolment_id, "programme_closed", caller.actor, now)
        await session.execute(
            update(programme).where(programme.c.id == programme_id).values(status="closed", updated_at=func.now())
        )
        await outbox.add_event(
            session, ProgrammeClosedV1(programme_id=programme_id, provider_id=current["provider_id"])
        )
        return len(active)


async def suspend_lapsed_groups(sessions: Sessions, today: date, cache: SearchCache | None = None) -> int:
    """Suspend every published programme whose coach or facility lacks a valid attestation on ``today``,
    and publish again every suspended one whose attestations are all valid again.

    One transaction; each programme that moved gets a ProgrammeChanged (full state) in the outbox, and the
    search cache version is bumped after the commit. Idempotent: a second run on the same day changes nothing.
    Returns how many programmes moved.
    """
    lapsed = staff.lapsed_clause(today)
    async with sessions() as session, session.begin():
        suspended = (
            (
                await session.execute(
                    update(programme)
                    .where(programme.c.status == "published", lapsed)
                    .values(status="suspended", updated_at=func.now())
                    .returning(*programme.c)
                )
            )
            .mappings()
            .all()
        )
        restored = (
            (
                await session.execute(
                    update(programme)
                    .where(programme.c.status == "suspended", ~lapsed)
                    .values(status="published", updated_at=func.now())
                    .returning(*programme.c)
                )
            )
            .mappings()
            .all()
        )
        for row in sorted([*suspended, *restored], key=lambda r: str(r["id"])):
            await outbox.add_event(session, await programme_event(session, ProgrammeChangedV1, dict(row)))
    moved = len(suspended) + len(restored)
    if moved and cache is not None:
        await cache.invalidate()
    return moved


async def sweep_attestations(
    sessions: Sessions, today: date, warning_days: int, cache: SearchCache | None = None
) -> int:
    """The attestation sweep: suspend / restore programmes, then remind providers of expiring attestations.

    Two transactions, each idempotent on its own. Returns how many programmes moved plus notices published.
    """
    moved = await suspend_lapsed_groups(sessions, today, cache)
    return moved + await staff.notify_expiring(sessions, today, warning_days)


async def get_public(sessions: Sessions, programme_id: UUID, now: datetime, grace_days: int) -> dict[str, Any]:
    async with sessions() as session:
        row = (
            (
                await session.execute(
                    _public_columns().where(programme.c.id == programme_id, programme.c.status == "published")
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound("no such programme")
        signals = await quality.of_programmes(session, [programme_id], now, grace_days)
    return {**row, "quality": signals.get(programme_id)}


def _public_columns(distance: Any = None) -> Any:
    columns = [
        programme.c.id,
        programme.c.provider_id,
        provider.c.name.label("provider_name"),
        programme.c.status,
        programme.c.direction,
        programme.c.title,
        programme.c.description,
        programme.c.age_min,
        programme.c.age_max,
        programme.c.language,
        programme.c.schedule,
        programme.c.sessions_per_month,
        programme.c.price_per_month_tiyn,
        programme.c.capacity,
        (programme.c.capacity - programme.c.reserved).label("free_seats"),
        programme.c.region_code,
        programme.c.district_code,
        programme.c.address,
        programme.c.lat,
        programme.c.lon,
        (distance if distance is not None else cast(literal(None), Float)).label("distance_km"),
    ]
    return (
        select(*columns)
        .select_from(programme.join(provider, provider.c.id == programme.c.provider_id))
        .where(provider.c.status == "verified")
    )


def haversine_km(lat: float, lon: float) -> Any:
    """Great-circle distance from (lat, lon) to the programme, in SQL (Earth radius 6371 km)."""
    dlat = func.radians(programme.c.lat - lat)
    dlon = func.radians(programme.c.lon - lon)
    a = func.power(func.sin(dlat / 2), 2) + func.cos(func.radians(lat)) * func.cos(
        func.radians(programme.c.lat)
    ) * func.power(func.sin(dlon / 2), 2)
    return 2 * 6371.0 * func.asin(func.sqrt(func.least(1.0, a)))


SORTS = ("title", "price", "-price", "free_seats", "distance")


async def search(session: AsyncSession, f: dict[str, Any], now: datetime, grace_days: int) -> dict[str, Any]:
    """Published programmes that can run (a lapse hides a programme even before the sweep suspends it), each with
    its quality signals."""
    today = now.date()
    distance = haversine_km(f["lat"], f["lon"]) if f.get("lat") is not None and f.get("lon") is not None else None
    query = _public_columns(distance).where(programme.c.status == "published", ~staff.lapsed_clause(today))
    conditions = []
    if f.get("region_code"):
        conditions.append(programme.c.region_code == f["region_code"])
    if f.get("district_code"):
        conditions.append(programme.c.district_code == f["district_code"])
    if f.get("direction"):
        conditions.append(programme.c.direction == f["direction"])
    if f.get("language"):
        conditions.append(programme.c.language == f["language"])
    if f.get("age") is not None:
        conditions.append(and_(programme.c.age_min <= f["age"], programme.c.age_max >= f["age"]))
    if f.get("free_seats"):
        conditions.append(programme.c.reserved < programme.c.capacity)
    if f.get("max_price_tiyn") is not None:
        conditions.append(programme.c.price_per_month_tiyn <= f["max_price_tiyn"])
    if distance is not None and f.get("radius_km") is not None:
        conditions.append(distance <= f["radius_km"])
    if conditions:
        query = query.where(*conditions)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    sort = f.get("sort") or ("distance" if distance is not None else "title")
    if sort == "distance" and distance is None:
        raise RuleBroken("sort", "sorting by distance needs lat and lon")
    order = {
        "title": [asc(programme.c.title["en"].astext)],
        "price": [asc(programme.c.price_per_month_tiyn)],
        "-price": [desc(programme.c.price_per_month_tiyn)],
        "free_seats": [desc(programme.c.capacity - programme.c.reserved)],
        "distance": [asc(distance)] if distance is not None else [],
    }[sort]
    rows = (
        (await session.execute(query.order_by(*order, programme.c.id).limit(f["limit"]).offset(f["offset"])))
        .mappings()
        .all()
    )
    signals = await quality.of_programmes(session, [r["id"] for r in rows], now, grace_days)
    items = [{**r, "quality": signals.get(r["id"])} for r in rows]
    return {"items": items, "total": total, "limit": f["limit"], "offset": f["offset"]}
