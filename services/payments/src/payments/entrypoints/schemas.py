"""HTTP models of the payments API. Money is integer tiyn (1 tenge = 100 tiyn)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RegionBudgetOut(BaseModel):
    region_code: str = Field(examples=["astana"])
    revision: int
    budget_tiyn: int = Field(examples=[250000000000])
    voucher_monthly_value_tiyn: dict[str, int] = Field(examples=[{"sports": 1500000, "creativity": 1200000}])
    voucher_months: int = Field(examples=[9])
    max_vouchers_by_direction: dict[str, int] = Field(
        description="per direction: budget_tiyn // (monthly value × months), if the whole budget went to it",
        examples=[{"sports": 18518, "creativity": 23148}],
    )
