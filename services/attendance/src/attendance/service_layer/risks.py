"""Risk flags: scanned from submitted months (in the consumers process, or on demand), listed for operators."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from attendance.adapters import region_repository, risk_flag_repository, risk_queries
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
        zones = await region_repository.zones(session)
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
                rows = await risk_flag_repository.raise_flags(
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
    district_scoped = False
    if caller.role == "operator":
        if region_code is not None and region_code != caller.operator_region:
            raise NotFound("no such region")
        region_code = caller.operator_region
        district_scoped = caller.district is not None  # a flag's district is unknown: never a district operator's
    query = risk_queries.flags(region_code=region_code, period=period, rule=rule, status=status, none=district_scoped)
    async with deps.sessions() as session:
        return await page_of(session, query, RiskFlagOut, unique=False)


async def get(deps: Dependencies, caller: Caller, flag_id: UUID) -> RiskFlagOut:
    async with deps.sessions() as session:
        row = await risk_flag_repository.get(session, flag_id)
    if row is None or not caller.oversees(row["region_code"]):
        raise NotFound("no such risk flag")
    return RiskFlagOut.model_validate(dict(row))


async def review(deps: Dependencies, caller: Caller, flag_id: UUID, outcome: str, note: str) -> RiskFlagOut:
    """An operator records what the check found: the flag is dismissed or confirmed, with who and why."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        row = await risk_flag_repository.get(session, flag_id, lock=True)
        if row is None or not caller.may_decide_for(row["region_code"]):
            raise NotFound("no such risk flag")
        if row["status"] != "open":
            raise Conflict(f"this flag was already {row['status']}")
        updated = await risk_flag_repository.review(
            session, flag_id, status=outcome, reviewed_by=caller.actor, reviewed_at=now, note=note
        )
        return RiskFlagOut.model_validate(updated)
