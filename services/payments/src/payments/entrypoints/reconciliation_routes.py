"""Reconciliation and operations: the ledger checked against itself and its peers; parked events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from prometheus_client import Gauge

from payments.entrypoints import schemas
from payments.entrypoints.dependencies import Deps, PeriodQuery, RegionQuery
from payments.service_layer import operations, reconciliation
from qosym_chassis.callers import Oversight
from qosym_chassis.inputs import Offset, OffsetPage
from qosym_chassis.metrics import registry as metrics_registry

router = APIRouter()
FINDINGS = Gauge(
    "qosym_reconciliation_findings",
    "findings of the last reconciliation per check (0: the check passed); alerting on any",
    ["check"],
    registry=metrics_registry,
)


@router.get("/v1/reconciliation", tags=["reconciliation"])
async def reconcile(
    request: Request, _: Oversight, deps: Deps, region_code: RegionQuery = None, period: PeriodQuery = None
) -> schemas.ReconciliationOut:
    """Check the ledger (sums to zero, balances equal their entries, nothing below zero) and compare it with
    allocation's vouchers and attendance's payable timesheets (the caller's token is forwarded to both)."""
    token = request.headers["authorization"].split(" ", 1)[1]
    report = await reconciliation.reconcile(deps, token, region_code, period)
    for check in report.checks:
        FINDINGS.labels(check).set(sum(1 for finding in report.findings if finding.check == check))
    return schemas.out(schemas.ReconciliationOut, report)


@router.get("/v1/parked-events", tags=["operations"])
async def list_parked(
    _: Oversight, deps: Deps, limit: Annotated[int, Query(ge=1, le=100)] = 50, offset: Offset = 0
) -> OffsetPage[schemas.ParkedOut]:
    """Events that arrived before what they need (a round, voucher, enrolment or region): applied when it comes."""
    return schemas.paged(schemas.ParkedOut, await operations.list_parked(deps, limit, offset))
