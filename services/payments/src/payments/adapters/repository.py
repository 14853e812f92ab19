"""Payments persistence: the region budget projection."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from payments.adapters.orm import region_budget
from payments.domain.budget import RegionBudget


async def get_region_budget(session: AsyncSession, code: str) -> RegionBudget | None:
    row = (await session.execute(select(region_budget).where(region_budget.c.region_code == code))).mappings().first()
    if row is None:
        return None
    return RegionBudget(
        code=row["region_code"],
        revision=row["revision"],
        budget_tiyn=row["budget_tiyn"],
        voucher_monthly_value_tiyn=dict(row["voucher_monthly_value_tiyn"]),
        voucher_months=row["voucher_months"],
        timezone=row["timezone"],
    )


async def upsert_region_budget(session: AsyncSession, budget: RegionBudget) -> None:
    """Insert or update; an older or equal revision changes nothing."""
    values = {
        "region_code": budget.code,
        "revision": budget.revision,
        "budget_tiyn": budget.budget_tiyn,
        "voucher_monthly_value_tiyn": budget.voucher_monthly_value_tiyn,
        "voucher_months": budget.voucher_months,
        "timezone": budget.timezone,
    }
    statement = insert(region_budget).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[region_budget.c.region_code],
            set_={**{k: statement.excluded[k] for k in values if k != "region_code"}, "updated_at": func.now()},
            where=region_budget.c.revision < statement.excluded.revision,
        )
    )
