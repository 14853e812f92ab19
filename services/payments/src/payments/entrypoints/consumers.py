"""What payments consumes: one table of event type -> service-layer handler (docs/architecture.md, Service anatomy),
and the periodic hold sweep. The hot paths (a round's awards, the month-end's confirmations) are set-based
(``Many``): a batch's consecutive events of the type go to one call, which locks their accounts in one order first."""

from __future__ import annotations

from typing import cast

from payments.bootstrap import bootstrap, standalone_dependencies
from payments.config import PaymentsSettings
from payments.service_layer import batch_flows, family_budget, flows, sweeps
from payments.service_layer.dependencies import Dependencies
from qosym_chassis.consumer import EventConsumer, Many, Subscriptions
from qosym_chassis.context import ServiceContext
from qosym_contracts.allocation import (
    RegionConfiguredV1,
    RoundOpenedV1,
    VoucherAwardedV1,
    VoucherExpiredV1,
    VoucherReleasedV1,
    VoucherRevokedV1,
)
from qosym_contracts.attendance import AttendanceConfirmedV1, DisputeResolvedV1
from qosym_contracts.catalog import EnrolmentConfirmedV1, EnrolmentEndedV1, ProviderVerifiedV1
from qosym_contracts.registry import ChildRegisteredV1, GuardianshipEndedV1, GuardianshipEstablishedV1

SUBSCRIPTIONS: Subscriptions[Dependencies] = {
    RegionConfiguredV1: flows.on_region_configured,
    RoundOpenedV1: flows.on_round_opened,
    VoucherAwardedV1: Many(batch_flows.on_many_vouchers_awarded),  # a round's burst: set-based
    VoucherReleasedV1: flows.on_voucher_released,
    VoucherExpiredV1: flows.on_voucher_finished,
    VoucherRevokedV1: flows.on_voucher_finished,
    ProviderVerifiedV1: flows.on_provider_verified,
    EnrolmentConfirmedV1: flows.on_enrolment_confirmed,
    EnrolmentEndedV1: flows.on_enrolment_ended,
    AttendanceConfirmedV1: Many(batch_flows.on_many_payable_months),  # the month-end: set-based
    DisputeResolvedV1: Many(batch_flows.on_many_payable_months),
    # registry: who each child's guardians are (the family budget)
    ChildRegisteredV1: family_budget.on_child_registered,
    GuardianshipEstablishedV1: family_budget.on_guardianship_established,
    GuardianshipEndedV1: family_budget.on_guardianship_ended,
}


def register(consumer: EventConsumer, context: ServiceContext | None) -> None:
    """Bind the subscriptions to payments' dependencies. ``context`` is None only outside a consumers process
    (scripts/asyncapi.py, scripts/bench_payments.py): every subscription is listed all the same, bound to
    standalone dependencies, and no periodic job is scheduled."""
    if context is None:
        consumer.route(SUBSCRIPTIONS, standalone_dependencies())
        return
    settings = cast(PaymentsSettings, context.settings)
    deps = bootstrap(settings, context).deps
    consumer.route(SUBSCRIPTIONS, deps)

    async def hold_sweep() -> int:
        return await sweeps.void_stale_holds(deps)

    consumer.every(settings.hold_sweep_interval_s, hold_sweep)
