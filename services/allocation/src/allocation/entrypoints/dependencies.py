"""What allocation's routes receive: the bootstrapped dependencies and the callers allowed in
(docs/architecture.md, "Service anatomy")."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from allocation.bootstrap import Allocation
from allocation.service_layer.access import Caller
from allocation.service_layer.dependencies import Dependencies
from qosym_chassis.auth import CurrentPrincipal


def get_deps(request: Request) -> Dependencies:
    allocation: Allocation = request.app.state.allocation
    return allocation.deps


def get_caller(principal: CurrentPrincipal) -> Caller:
    return Caller.of(principal)


Deps = Annotated[Dependencies, Depends(get_deps)]
AnyCaller = Annotated[Caller, Depends(get_caller)]
"""Any authenticated caller; which objects they read is :mod:`allocation.service_layer.access`."""
