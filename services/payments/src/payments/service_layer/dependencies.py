"""What payments' use cases need, built once by ``payments.bootstrap`` (docs/architecture.md, Service anatomy)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from payments.adapters.peers import Peers
from payments.domain.payment_order import Party
from payments.domain.policy import Policy
from qosym_chassis.clock import Clock


@dataclass(frozen=True)
class Dependencies:
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    policy: Policy
    treasury: Callable[[str], Party | None]
    """The account a region's payment orders are paid from (None while not configured)."""
    payment_initiator: str
    peers: Callable[[], AbstractAsyncContextManager[Peers]]
    """Clients of allocation and attendance (reconciliation), opened per use."""
