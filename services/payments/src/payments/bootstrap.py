"""Composition root of payments: the only place that builds adapters (docs/architecture.md, Service anatomy)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import async_sessionmaker

from payments.adapters.peers import Peers, open_peers
from payments.config import PaymentsSettings
from payments.domain.payment_order import Party
from payments.domain.policy import Policy
from payments.service_layer.dependencies import Dependencies
from qosym_chassis.clock import Clock
from qosym_chassis.context import ServiceContext


@dataclass(frozen=True)
class Payments:
    """What payments' entrypoints receive: its settings, the chassis context and the use cases' dependencies."""

    settings: PaymentsSettings
    context: ServiceContext
    deps: Dependencies


def policy_of(settings: PaymentsSettings) -> Policy:
    return Policy(
        thresholds_percent=tuple(settings.budget_thresholds_percent),
        school_year_end_month=settings.school_year_end_month,
        hold_timeout_months=settings.hold_timeout_months,
    )


def treasury_of(settings: PaymentsSettings, region_code: str) -> Party | None:
    account = settings.treasury_account(region_code)
    return Party(name=account.name, iban=account.iban, bic=account.bic) if account else None


def dependencies(settings: PaymentsSettings, context: ServiceContext) -> Dependencies:
    @asynccontextmanager
    async def peers() -> AsyncIterator[Peers]:
        async with open_peers(settings.allocation_url, settings.attendance_url, settings.peer_timeout_s) as opened:
            yield opened

    return Dependencies(
        sessions=context.session_factory,
        clock=context.clock,
        policy=policy_of(settings),
        treasury=lambda region_code: treasury_of(settings, region_code),
        payment_initiator=settings.payment_initiator_name,
        peers=peers,
    )


def standalone_dependencies() -> Dependencies:
    """Dependencies without a service context, for a consumer that brings its own sessions (scripts/asyncapi.py
    lists the subscriptions, scripts/bench_payments.py drives the handlers): the default policy, the chassis clock,
    no treasury account, peers at their default addresses; ``sessions`` is bound to no database."""
    defaults = PaymentsSettings.model_fields

    @asynccontextmanager
    async def peers() -> AsyncIterator[Peers]:
        async with open_peers(
            defaults["allocation_url"].default, defaults["attendance_url"].default, defaults["peer_timeout_s"].default
        ) as opened:
            yield opened

    return Dependencies(
        sessions=async_sessionmaker(),
        clock=Clock(),
        policy=Policy(),
        treasury=lambda region_code: None,
        payment_initiator=defaults["payment_initiator_name"].default,
        peers=peers,
    )


def bootstrap(settings: PaymentsSettings, context: ServiceContext) -> Payments:
    return Payments(settings=settings, context=context, deps=dependencies(settings, context))
