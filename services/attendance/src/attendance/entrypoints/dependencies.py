"""What every attendance route receives: the use cases' dependencies and the caller (roles from
qosym_chassis.callers; which objects they may touch is service_layer/access.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request

from attendance.bootstrap import Attendance
from attendance.service_layer.access import Caller
from attendance.service_layer.dependencies import Dependencies
from qosym_chassis.auth import Principal
from qosym_chassis.callers import OPERATORS, OVERSIGHT, needs
from qosym_contracts.types import PERIOD_PATTERN, REGION_CODE_PATTERN


def _dependencies(request: Request) -> Dependencies:
    service: Attendance = request.app.state.attendance
    return service.deps


Deps = Annotated[Dependencies, Depends(_dependencies)]

OperatorOrOversight = Annotated[Principal, needs(OPERATORS, OVERSIGHT)]
"""A region's operators (their region only, service_layer/access.py) and the oversight roles everywhere: reading
inspections and risk flags, and reconciling payable months."""

RegionPath = Annotated[str, Path(pattern=REGION_CODE_PATTERN, examples=["astana"])]
PeriodPath = Annotated[str, Path(pattern=PERIOD_PATTERN, examples=["2026-11"])]
RegionQuery = Annotated[str | None, Query(pattern=REGION_CODE_PATTERN, examples=["astana"])]
PeriodQuery = Annotated[str | None, Query(pattern=PERIOD_PATTERN, examples=["2026-11"])]


def caller_of(principal: Principal) -> Caller:
    return Caller(subject=principal.subject, role=principal.role, scope=dict(principal.scope))
