"""Small helpers of the payments repositories (plain SQL through SQLAlchemy's text())."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, Select, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession


async def one(session: AsyncSession, sql: str, **params: Any) -> Row[Any] | None:
    return (await session.execute(text(sql), params)).first()


async def rows(session: AsyncSession, sql: str, **params: Any) -> list[Row[Any]]:
    return list(await session.execute(text(sql), params))


async def page(session: AsyncSession, query: Select[Any], limit: int, offset: int) -> tuple[int, list[Row[Any]]]:
    """One page of a listing and the listing's total."""
    total = (await session.execute(select(func.count()).select_from(query.order_by(None).subquery()))).scalar_one()
    found = await session.execute(query.limit(limit).offset(offset))
    return int(total), list(found)
