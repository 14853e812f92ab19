"""What payments' routes receive: the use cases' dependencies (bootstrapped once, on app.state) and who may call.

Caller aliases are unions of the chassis role sets (``qosym_chassis.callers``), never retyped role names."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request

from payments.bootstrap import Payments
from payments.service_layer.dependencies import Dependencies
from qosym_chassis.auth import Principal
from qosym_chassis.callers import ADMINISTRATORS, FINANCE_READERS, PARTNERS, PROVIDER_STAFF, needs
from qosym_contracts.types import PERIOD_PATTERN, REGION_CODE_PATTERN


def get_dependencies(request: Request) -> Dependencies:
    payments: Payments = request.app.state.payments
    return payments.deps


Deps = Annotated[Dependencies, Depends(get_dependencies)]

PaymentOrderReader = Annotated[Principal, needs(FINANCE_READERS, PARTNERS)]
"""Finance readers and the treasury (a partner's service account) fetch a batch's payment order file."""
TreasuryConfirmer = Annotated[Principal, needs(ADMINISTRATORS, PARTNERS)]
"""The treasury (a partner's service account), or an administrator for it, confirms what was paid."""
ProviderMoneyReader = Annotated[Principal, needs(PROVIDER_STAFF, FINANCE_READERS)]
"""A provider's own staff (their provider only: service_layer/access.py) and the finance readers."""

RegionPath = Annotated[str, Path(pattern=REGION_CODE_PATTERN, examples=["astana"])]
RegionQuery = Annotated[str | None, Query(pattern=REGION_CODE_PATTERN, examples=["astana"])]
PeriodQuery = Annotated[str | None, Query(pattern=PERIOD_PATTERN, examples=["2026-11"])]
