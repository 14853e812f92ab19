"""HTTP models of the catalog API."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ConsultationPointOut(BaseModel):
    region_code: str = Field(examples=["astana"])
    district: str = Field(examples=["yesil"])
    name: str = Field(examples=["Art School No. 2"])
    address: str = Field(examples=["Dostyk St., 13"])
    opening_days: list[str] = Field(examples=[["saturday", "sunday"]])
