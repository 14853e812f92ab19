"""Risk flags: scanned from submitted months (in the consumers process, or on demand), listed for operators."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import false, select, update

from attendance.adapters import risk_sql
from attendance.adapters.orm import region, risk_flag
from attendance.adapters.pages import page_of
from attendance.domain.period import period_containing, period_named, shift_period
from attendance.domain.risk import RULES, RiskThresholds
from attendance.service_layer.access import Caller
from attendance.service_layer.dependencies import Dependencies
from attendance.service_layer.views import RiskFlagOut
from qosym_chassis.errors import Conflict, FieldError, NotFound
from qosym_chassis.inputs import OffsetPage


async def scan(
    deps: Dependencies,
    now: datetime | None = None,
    *,
    period: str | None = None,
    region_code: str | None = None,
    thresholds: RiskThresholds | None = None,
) -> dict[str, int]:
    """Run every rule for the period (default: this month and last month in each region's zone)."""
    now = now or deps.clock.now()
    limits = thresholds or RiskThresholds()
    async with deps.sessions() as session:
        zones = dict((await session.execute(select(region.c.code, region.c.timezone))).all())
    if region_code is not None:
        zones = {region_code: zones[region_code]} if region_code in zones else {}
    periods: set[tuple[str, str]] = set()
    for tz in set(zones.values()):
        current = period_containing(now, tz).name
        names = [period] if period else [current, shift_period(current, -1)]
        periods.update((name, tz) for name in names)
    raised: dict[str, int] = dict.fromkeys(RULES, 0)
    for name, tz in sorted(periods):
        try:
            bounds = period_named(name, tz)
        except ValueError as exc:
            raise FieldError("period", str(exc)) from exc
        for rule in RULES:
            async with deps.sessions() as session, session.begin():
                rows = await risk_sql.raise_flags(
                    session,
                    rule,
                    period=name,
                    period_starts=bounds.starts_at,
                    period_ends=bounds.ends_at,
                    region_code=region_code,
                    thresholds=limits,
                    now=now,
                )
            raised[rule] += len(rows)
    return raised


async def list_flags(
    deps: Dependencies,
    caller: Caller,
    *,
    region_code: str | None,
    period: str | None,
    rule: str | None,
    status: str | None,
) -> OffsetPage[RiskFlagOut]:
    query = select(risk_flag)
    if caller.role == "operator":
        if region_code is not None and region_code != caller.operator_region:
            raise NotFound("no such region")
        region_code = caller.operator_region
        if caller.district is not None:  # a flag's district is unknown: never a district operator's
            query = query.where(false())
    if region_code is not None:
        query = query.where(risk_flag.c.region_code == region_code)
    if period is not None:
        query = query.where(risk_flag.c.period == period)
    if rule is not None:
        query = query.where(risk_flag.c.rule == rule)
    if status is not None:
        query = query.where(risk_flag.c.status == status)
    async with deps.sessions() as session:
        return await page_of(
            session, query.order_by(risk_flag.c.raised_at.desc(), risk_flag.c.id), RiskFlagOut, unique=False
        )


async def get(deps: Dependencies, caller: Caller, flag_id: UUID) -> RiskFlagOut:
    async with deps.sessions() as session:
        row = (await session.execute(select(risk_flag).where(risk_flag.c.id == flag_id))).mappings().first()
    if row is None or not caller.oversees(row["region_code"]):
        raise NotFound("no such risk flag")
    return RiskFlagOut.model_validate(dict(row))


async def review(deps: Dependencies, caller: Caller, flag_id: UUID, outcome: str, note: str) -> RiskFlagOut:
    """An operator records what the check found: the flag is dismissed or confirmed, with who and why."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        row = (
            (await session.execute(select(risk_flag).where(risk_flag.c.id == flag_id).with_for_update()))
            .mappings()
            .first()
        )
        if row is None or not caller.may_decide_for(row["region_code"]):
            raise NotFound("no such risk flag")
        if row["status"] != "open":
            raise Conflict(f"this flag was already {row['status']}")
        await session.execute(
            update(risk_flag)
            .where(risk_flag.c.id == flag_id)
            .values(status=outcome, reviewed_by=caller.actor, reviewed_at=now, review_note=note)
        )
        updated = (await session.execute(select(risk_flag).where(risk_flag.c.id == flag_id))).mappings().one()
        return RiskFlagOut.model_validate(dict(updated))
