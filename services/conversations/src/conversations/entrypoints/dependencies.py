"""What a route receives: the service's dependencies, and who may call (built from qosym_chassis.callers)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from conversations.service_layer.dependencies import Dependencies
from qosym_chassis.auth import Principal
from qosym_chassis.callers import ADMINISTRATORS, OPERATORS, PARENTS, PROVIDER_STAFF, needs


def _deps(request: Request) -> Dependencies:
    deps: Dependencies = request.app.state.conversations.deps
    return deps


Deps = Annotated[Dependencies, Depends(_deps)]
Participant = Annotated[Principal, needs(PARENTS, PROVIDER_STAFF, OPERATORS)]
"""Guardians, providers' staff and operators: the only roles that can take part in a thread."""
ResponseTimeReader = Annotated[Principal, needs(OPERATORS, ADMINISTRATORS)]
