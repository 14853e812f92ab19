"""HTTP models of the attendance API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class CurrentPeriodOut(BaseModel):
    region_code: str = Field(examples=["astana"])
    timezone: str = Field(examples=["Asia/Almaty"])
    period: str = Field(description="YYYY-MM of the local calendar month", examples=["2026-11"])
    starts_at: datetime = Field(description="local midnight of the 1st, in UTC", examples=["2026-10-31T19:00:00Z"])
    ends_at: datetime = Field(
        description="local midnight of the next month's 1st, in UTC (exclusive)", examples=["2026-11-30T19:00:00Z"]
    )
