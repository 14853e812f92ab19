"""What a route receives: the service's dependencies, and who may read the officials' figures."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from insights.service_layer.dependencies import Dependencies
from qosym_chassis.auth import Principal
from qosym_chassis.callers import AUDITORS, OFFICIALS, needs


def _deps(request: Request) -> Dependencies:
    deps: Dependencies = request.app.state.insights.deps
    return deps


Deps = Annotated[Dependencies, Depends(_deps)]
FigureReader = Annotated[Principal, needs(OFFICIALS, AUDITORS)]
"""Operators (their own region), administrators and auditors."""
