"""What catalog's use cases need, built once by :mod:`catalog.bootstrap` (docs/architecture.md, "Service anatomy")."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog.adapters.cache import SearchCache
from catalog.config import CatalogSettings
from qosym_chassis.clock import Clock
from qosym_chassis.protection import IinProtector


@dataclass(frozen=True)
class Dependencies:
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    settings: CatalogSettings
    cache: SearchCache
    """The public search cache: use cases that change programmes or seats invalidate it after their commit."""
    protector: IinProtector | None = None
    """Encrypts and indexes staff IINs; only the API process holds the keys (no consumer reads an IIN)."""

    def iin_protector(self) -> IinProtector:
        if self.protector is None:
            raise RuntimeError("this process holds no IIN keys (see catalog.bootstrap)")
        return self.protector
