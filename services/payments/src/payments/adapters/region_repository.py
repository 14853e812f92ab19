"""A region's budget and voucher terms (the projection of allocation's RegionConfigured)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from payments.adapters._sql import one
from payments.adapters.orm import region_budget
from payments.domain.budget import RegionBudget
from payments.domain.payment_order import Party
from qosym_chassis.db import upsert_if_newer


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
        treasury=_party(row["treasury_account"]),
    )


def _party(stored: dict[str, str] | None) -> Party | None:
    return Party(name=stored["name"], iban=stored["iban"], bic=stored["bic"]) if stored else None


async def region_treasury(session: AsyncSession, code: str) -> Party | None:
    """The paying account the region's file names (projected from RegionConfigured), if it names one."""
    row = await one(session, "SELECT treasury_account FROM region_budget WHERE region_code = :c", c=code)
    return _party(row.treasury_account) if row else None


async def upsert_region_budget(session: AsyncSession, budget: RegionBudget) -> None:
    """Insert or update; an older or equal revision changes nothing."""
    await upsert_if_newer(
        session,
        region_budget,
        {
            "region_code": budget.code,
            "revision": budget.revision,
            "budget_tiyn": budget.budget_tiyn,
            "voucher_monthly_value_tiyn": budget.voucher_monthly_value_tiyn,
            "voucher_months": budget.voucher_months,
            "timezone": budget.timezone,
            "treasury_account": (
                {"name": budget.treasury.name, "iban": budget.treasury.iban, "bic": budget.treasury.bic}
                if budget.treasury
                else None
            ),
        },
        key=["region_code"],
    )


async def region_timezone(session: AsyncSession, region_code: str) -> str | None:
    row = await one(session, "SELECT timezone FROM region_budget WHERE region_code = :c", c=region_code)
    return row.timezone if row else None


async def region_exists(session: AsyncSession, region_code: str) -> bool:
    return await one(session, "SELECT 1 FROM region_budget WHERE region_code = :c", c=region_code) is not None
