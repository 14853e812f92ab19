"""Risk flags: listed and reviewed by operators, scanned on demand (service_layer/risks.py)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from fastapi import APIRouter

from attendance.entrypoints.dependencies import Deps, OperatorOrOversight, PeriodQuery, RegionQuery, caller_of
from attendance.entrypoints.schemas import ReviewIn
from attendance.service_layer import risks
from attendance.service_layer.views import RiskFlagOut, ScanOut
from qosym_chassis.callers import Official, Platform
from qosym_chassis.inputs import OffsetPage
from qosym_contracts.attendance import RiskRule

router = APIRouter()


@router.get("/v1/risk-flags", tags=["risk flags"], responses={404: {}})
async def list_flags(
    who: OperatorOrOversight,
    deps: Deps,
    region_code: RegionQuery = None,
    period: PeriodQuery = None,
    rule: RiskRule | None = None,
    status: Literal["open", "dismissed", "confirmed"] | None = None,
) -> OffsetPage[RiskFlagOut]:
    """Risk flags with their evidence, newest first (an operator sees their region's)."""
    return await risks.list_flags(
        deps, caller_of(who), region_code=region_code, period=period, rule=rule, status=status
    )


@router.get("/v1/risk-flags/{flag_id}", tags=["risk flags"], responses={404: {}})
async def get_flag(flag_id: UUID, who: OperatorOrOversight, deps: Deps) -> RiskFlagOut:
    return await risks.get(deps, caller_of(who), flag_id)


@router.post("/v1/risk-flags/{flag_id}/review", tags=["risk flags"], responses={404: {}, 409: {}})
async def review_flag(flag_id: UUID, body: ReviewIn, who: Official, deps: Deps) -> RiskFlagOut:
    """Record what the check found (dismissed or confirmed), with who and why."""
    return await risks.review(deps, caller_of(who), flag_id, body.outcome, body.note)


@router.post("/v1/risk-flags/scan", tags=["risk flags"], responses={422: {}})
async def scan_now(who: Platform, deps: Deps, region_code: RegionQuery = None, period: PeriodQuery = None) -> ScanOut:
    """Run the risk rules now (the consumers process also runs them every QOSYM_RISK_SCAN_INTERVAL_S)."""
    return ScanOut(raised=await risks.scan(deps, period=period, region_code=region_code))
