"""Read-side SQL of the public programme pages: the search and one programme (verified providers only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import Float, Select, and_, asc, cast, desc, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.adapters.orm import programme, provider, review
from catalog.adapters.staff_repository import lapsed_clause
from catalog.domain.reviews import MIN_VISIBLE_RATINGS

Row = dict[str, Any]


@dataclass(frozen=True)
class Filters:
    region_code: str | None = None
    district_code: str | None = None
    direction: str | None = None
    age: int | None = None
    language: str | None = None
    free_seats: bool = False
    max_price_tiyn: int | None = None
    lat: float | None = None
    lon: float | None = None
    radius_km: float | None = None


def _public_columns(distance: Any = None) -> Select[Any]:
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


async def published(session: AsyncSession, programme_id: UUID) -> Row | None:
    row = (
        (
            await session.execute(
                _public_columns().where(programme.c.id == programme_id, programme.c.status == "published")
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def search(
    session: AsyncSession, f: Filters, sort: str, limit: int, offset: int, today: date
) -> tuple[list[Row], int]:
    """Published programmes that can run on ``today`` (a lapse hides a programme even before the sweep suspends it),
    one page in ``sort`` order (``distance`` needs lat and lon), and how many match."""
    distance = haversine_km(f.lat, f.lon) if f.lat is not None and f.lon is not None else None
    query = _public_columns(distance).where(programme.c.status == "published", ~lapsed_clause(today))
    conditions = []
    if f.region_code:
        conditions.append(programme.c.region_code == f.region_code)
    if f.district_code:
        conditions.append(programme.c.district_code == f.district_code)
    if f.direction:
        conditions.append(programme.c.direction == f.direction)
    if f.language:
        conditions.append(programme.c.language == f.language)
    if f.age is not None:
        conditions.append(and_(programme.c.age_min <= f.age, programme.c.age_max >= f.age))
    if f.free_seats:
        conditions.append(programme.c.reserved < programme.c.capacity)
    if f.max_price_tiyn is not None:
        conditions.append(programme.c.price_per_month_tiyn <= f.max_price_tiyn)
    if distance is not None and f.radius_km is not None:
        conditions.append(distance <= f.radius_km)
    if conditions:
        query = query.where(*conditions)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    order = {
        "title": [asc(programme.c.title["en"].astext)],
        "price": [asc(programme.c.price_per_month_tiyn)],
        "-price": [desc(programme.c.price_per_month_tiyn)],
        "free_seats": [desc(programme.c.capacity - programme.c.reserved)],
        "distance": [asc(distance)] if distance is not None else [],
        "rating": [desc(_shown_mean()).nulls_last()],
    }[sort]
    rows = (await session.execute(query.order_by(*order, programme.c.id).limit(limit).offset(offset))).mappings().all()
    return [dict(r) for r in rows], total


def _shown_mean() -> Any:
    """The mean of a programme's visible ratings, null below the number shown (such programmes sort last)."""
    return (
        select(func.avg(review.c.rating))
        .where(review.c.programme_id == programme.c.id, review.c.status == "visible")
        .having(func.count() >= MIN_VISIBLE_RATINGS)
        .scalar_subquery()
    )
