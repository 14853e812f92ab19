"""Read-side SQL: one region's facts, and the freshness of the figures."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from insights.adapters.orm import (
    accrual,
    application,
    child,
    enrolment,
    freshness,
    payout,
    programme,
    region,
    timesheet,
    voucher,
)
from insights.domain import facts as f


async def region_of(session: AsyncSession, code: str) -> f.Region | None:
    row = (await session.execute(select(region).where(region.c.code == code))).mappings().first()
    if row is None:
        return None
    districts = list(row["districts"])
    return f.Region(
        code=row["code"],
        name=dict(row["name"]),
        timezone=row["timezone"],
        districts=[d["code"] for d in districts],
        district_names={d["code"]: dict(d["name"]) for d in districts},
        directions=list(row["directions"]),
        budget_tiyn=int(row["budget_tiyn"]),
        child_population={
            d["code"]: int(d["child_population"]) for d in districts if d.get("child_population") is not None
        },
    )


async def freshness_of(session: AsyncSession, scope: str) -> datetime | None:
    value = await session.scalar(select(freshness.c.last_event_at).where(freshness.c.scope == scope))
    return value


async def known_regions(session: AsyncSession) -> list[str]:
    codes = set((await session.scalars(select(region.c.code))).all())
    codes |= set((await session.scalars(select(application.c.region_code).distinct())).all())
    return sorted(c for c in codes if c)


async def load_facts(session: AsyncSession, code: str) -> f.Facts:
    facts = f.Facts(
        region_code=code, region=await region_of(session, code), freshness=await freshness_of(session, code)
    )
    for row in (await session.execute(select(child).where(child.c.region_code == code))).mappings():
        facts.children[row["child_key"]] = f.Child(
            row["district_code"], row["birth_year"], tuple(row["categories"] or ())
        )
    # categories may be known for a child whose registration (with its region) has not been applied yet
    keys = select(application.c.child_key).where(application.c.region_code == code)
    for row in (await session.execute(select(child).where(child.c.child_key.in_(keys)))).mappings():
        facts.children[row["child_key"]] = f.Child(
            row["district_code"], row["birth_year"], tuple(row["categories"] or ())
        )
    rows = await session.execute(
        select(application)
        .where(application.c.region_code == code, application.c.submitted_at.is_not(None))
        .order_by(application.c.application_id)
    )
    facts.applications = [
        f.Application(
            r["application_id"],
            r["round_id"],
            r["child_key"],
            r["district_code"],
            r["direction"],
            r["submitted_at"],
            r["withdrawn_at"] is not None,
            r["waitlisted_at"] is not None,
        )
        for r in rows.mappings()
    ]
    rows = await session.execute(
        select(voucher)
        .where(voucher.c.region_code == code, voucher.c.awarded_at.is_not(None))
        .order_by(voucher.c.voucher_id)
    )
    facts.vouchers = [
        f.Voucher(
            r["voucher_id"],
            r["application_id"],
            r["round_id"],
            r["child_key"],
            r["district_code"],
            r["direction"],
            int(r["monthly_value_tiyn"]),
            int(r["months"]),
            r["awarded_at"],
            r["end_kind"],
        )
        for r in rows.mappings()
    ]
    rows = await session.execute(
        select(programme)
        .where(programme.c.region_code == code, programme.c.capacity.is_not(None))
        .order_by(programme.c.programme_id)
    )
    facts.programmes = [
        f.Programme(
            r["programme_id"],
            r["provider_id"],
            r["district_code"],
            r["direction"],
            int(r["capacity"]),
            r["closed_at"] is None and r["status"] == "published",
        )
        for r in rows.mappings()
    ]
    rows = await session.execute(
        select(enrolment)
        .where(enrolment.c.region_code == code, enrolment.c.confirmed_at.is_not(None))
        .order_by(enrolment.c.enrolment_id)
    )
    facts.enrolments = [
        f.Enrolment(
            r["enrolment_id"],
            r["voucher_id"],
            r["programme_id"],
            r["provider_id"],
            r["district_code"],
            r["direction"],
            r["confirmed_at"],
            r["ended_at"],
        )
        for r in rows.mappings()
    ]
    rows = await session.execute(
        select(timesheet).where(timesheet.c.region_code == code).order_by(timesheet.c.timesheet_id)
    )
    facts.timesheets = [
        f.Timesheet(
            r["timesheet_id"],
            r["enrolment_id"],
            r["programme_id"],
            r["period"],
            r["attended_sessions"],
            r["first_attended_on"],
            r["submitted_at"] is not None,
            r["confirmed_at"] is not None,
            r["basis"] == "guardian_confirmed",
            r["disputed_at"] is not None,
            r["resolved_at"] is not None,
        )
        for r in rows.mappings()
    ]
    rows = await session.execute(select(accrual).where(accrual.c.region_code == code).order_by(accrual.c.accrual_id))
    facts.accruals = [
        f.Accrual(r["provider_id"], r["programme_id"], r["period"], int(r["amount_tiyn"])) for r in rows.mappings()
    ]
    rows = await session.execute(select(payout).where(payout.c.region_code == code).order_by(payout.c.batch_id))
    facts.payouts = [f.Payout(r["provider_id"], r["period"], int(r["amount_tiyn"])) for r in rows.mappings()]
    return facts
