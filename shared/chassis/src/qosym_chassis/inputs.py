"""Input types every write route and query parameter uses, so hostile input is refused up front (a 422
naming the field) instead of reaching PostgreSQL (a NUL byte, a 20-digit integer, year 1) and failing there.

- ``SafeText``: one line of text; refuses NUL and every other control character (Unicode Cc), lone
  surrogates (Cs, which no UTF-8 database column can hold) and anything over ``MAX_TEXT`` characters
  (a field's own ``max_length`` is the real bound). Narrow it per field as before: ``name: SafeText = Field(min_length=1, max_length=300)``.
- ``MultilineText``: the same, but newlines and tabs (``\\n``, ``\\r``, ``\\t``) are allowed: complaint
  text, free-form descriptions.
- ``Money`` (tiyn, 0..10^15), ``SignedMoney``, ``Count`` (0..2^31-1), ``Int32``, ``BigInt``: integers that
  fit the column they are stored in.
- ``SaneDate`` (1900-01-01..2100-12-31), ``SaneDatetime`` (the same range, timezone-aware or not),
  ``SaneAwareDatetime`` (the same, and a timezone required):
  dates a domain may narrow further (``Field(ge=...)``).
- ``Offset`` and ``Limit`` query parameters, and ``OffsetPage``: fastapi-pagination's limit/offset page
  with the offset bounded (``MAX_OFFSET``); every list route uses one or the other.

The checks raise ``ValueError``, so FastAPI turns them into the chassis's problem+json 422 with the
field named and the value never echoed.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime
from typing import Annotated, Any, Generic

from fastapi import Query
from fastapi_pagination.limit_offset import LimitOffsetPage, LimitOffsetParams
from pydantic import AfterValidator, AwareDatetime
from typing_extensions import TypeVar

MAX_TEXT = 10_000
MAX_OFFSET = 1_000_000
MAX_LIMIT = 100
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2100, 12, 31)
MAX_MONEY = 10**15
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

_MULTILINE_ALLOWED = frozenset("\n\r\t")


def _refuse_controls(value: str, allowed: frozenset[str]) -> str:
    if len(value) > MAX_TEXT:
        raise ValueError(f"at most {MAX_TEXT} characters")
    for char in value:
        if char in allowed:
            continue
        category = unicodedata.category(char)
        if category == "Cc":
            raise ValueError("control characters are not allowed")
        if category == "Cs":
            raise ValueError("invalid unicode (lone surrogate)")
    return value


def single_line(value: str) -> str:
    """No control characters at all (NUL, newline, escape, ...), no lone surrogates."""
    return _refuse_controls(value, frozenset())


def multi_line(value: str) -> str:
    """Newlines and tabs allowed; every other control character and lone surrogates refused."""
    return _refuse_controls(value, _MULTILINE_ALLOWED)


def _date_in_range(value: date) -> date:
    if not MIN_DATE <= value <= MAX_DATE:
        raise ValueError(f"must be between {MIN_DATE.isoformat()} and {MAX_DATE.isoformat()}")
    return value


def _datetime_in_range(value: datetime) -> datetime:
    plain = value.astimezone(UTC).date() if value.tzinfo else value.date()
    if not MIN_DATE <= plain <= MAX_DATE:
        raise ValueError(f"must be between {MIN_DATE.isoformat()} and {MAX_DATE.isoformat()}")
    return value


SafeText = Annotated[str, AfterValidator(single_line)]
MultilineText = Annotated[str, AfterValidator(multi_line)]


def _int_range(low: int, high: int) -> AfterValidator:
    def check(value: int) -> int:
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value

    return AfterValidator(check)


# The ranges are validators, not ``Field(ge=, le=)``: a field's own ``Field(ge=1, le=...)`` then still applies
# (annotated metadata would override it).
Money = Annotated[int, _int_range(0, MAX_MONEY)]
SignedMoney = Annotated[int, _int_range(-MAX_MONEY, MAX_MONEY)]
Count = Annotated[int, _int_range(0, INT32_MAX)]
Int32 = Annotated[int, _int_range(-INT32_MAX - 1, INT32_MAX)]
BigInt = Annotated[int, _int_range(-INT64_MAX - 1, INT64_MAX)]

SaneDate = Annotated[date, AfterValidator(_date_in_range)]
SaneDatetime = Annotated[datetime, AfterValidator(_datetime_in_range)]
SaneAwareDatetime = Annotated[AwareDatetime, AfterValidator(_datetime_in_range)]

Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Page offset")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size limit")]

TAny = TypeVar("TAny", default=Any)


class BoundedLimitOffsetParams(LimitOffsetParams):
    """fastapi-pagination's limit/offset parameters with the offset bounded (it has no upper bound)."""

    offset: int = Query(0, ge=0, le=MAX_OFFSET, description="Page offset")


class OffsetPage(LimitOffsetPage[TAny], Generic[TAny]):
    """``LimitOffsetPage`` whose ``offset`` query parameter is bounded by ``MAX_OFFSET``."""

    __params_type__ = BoundedLimitOffsetParams
