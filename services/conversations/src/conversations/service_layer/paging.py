"""A page of a listing as a use case returns it (the routes answer it as ``qosym_chassis.inputs.OffsetPage``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int
