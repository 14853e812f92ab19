"""A page of a listing as a use case returns it (the routes answer it as ``qosym_chassis.inputs.OffsetPage``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int

    @classmethod
    def of(cls, everything: list[T], offset: int, limit: int) -> Page[T]:
        """A page of a list that is small by nature (one child's guardians or claims), read whole anyway."""
        return cls(everything[offset : offset + limit], len(everything), offset, limit)

    def map(self, function: Callable[[T], U]) -> Page[U]:
        return Page([function(item) for item in self.items], self.total, self.offset, self.limit)
