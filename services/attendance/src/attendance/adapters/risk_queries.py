"""Read-side SQL of risk flags: the listing operators page through."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, false, select

from attendance.adapters.orm import risk_flag


def flags(
    *, region_code: str | None, period: str | None, rule: str | None, status: str | None, none: bool = False
) -> Select[Any]:
    """Risk flags, newest first (``none``: an empty listing, for a caller who may read no flag)."""
    query = select(risk_flag)
    if none:
        query = query.where(false())
    if region_code is not None:
        query = query.where(risk_flag.c.region_code == region_code)
    if period is not None:
        query = query.where(risk_flag.c.period == period)
    if rule is not None:
        query = query.where(risk_flag.c.rule == rule)
    if status is not None:
        query = query.where(risk_flag.c.status == status)
    return query.order_by(risk_flag.c.raised_at.desc(), risk_flag.c.id)
