"""What the registry's use cases need, built once by ``registry.bootstrap`` (docs/architecture.md, "Service anatomy")."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from qosym_chassis.clock import Clock
from qosym_chassis.protection import IinProtector
from registry.adapters.credentials import SecretBox
from registry.adapters.evidence import EvidenceStore
from registry.adapters.limits import Limiter
from registry.adapters.pending import PendingRegistrations
from registry.adapters.sms import BackgroundSms, SmsSender
from registry.adapters.state_registry import StateRegistry
from registry.adapters.tokens import TokenIssuer
from registry.domain.login_limits import Limits


@dataclass(frozen=True)
class Dependencies:
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    protector: IinProtector
    tokens: TokenIssuer
    box: SecretBox
    evidence: EvidenceStore
    sms: SmsSender
    outgoing_sms: BackgroundSms  # the same sender, not awaited by the request (login codes)
    state_registry: StateRegistry
    limiter: Limiter
    pending: PendingRegistrations
    limits: Limits
    access_token_ttl_s: int
