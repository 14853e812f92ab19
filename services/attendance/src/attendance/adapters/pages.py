"""One page of a listing, in the chassis' page model (limit/offset read from the request by fastapi-pagination)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar, cast

from fastapi_pagination.ext.sqlalchemy import apaginate
from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from qosym_chassis.inputs import OffsetPage

M = TypeVar("M", bound=BaseModel)


async def page_of(session: AsyncSession, query: Select[Any], model: type[M], *, unique: bool = True) -> OffsetPage[M]:
    """The requested page of ``query``'s rows, each read into ``model``."""

    def read(rows: Sequence[Any]) -> list[M]:
        return [model.model_validate(row) for row in rows]

    page = await apaginate(session, query, unique=unique, transformer=read)
    return cast(OffsetPage[M], page)
