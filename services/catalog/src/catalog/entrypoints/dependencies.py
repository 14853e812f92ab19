"""What catalog's routes receive: the use cases' :class:`Dependencies` and who may call (docs/architecture.md,
"Service anatomy")."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from catalog.bootstrap import Catalog
from catalog.service_layer.access import Caller
from catalog.service_layer.dependencies import Dependencies
from qosym_chassis.auth import Principal
from qosym_chassis.callers import (
    OFFICIALS,
    OPERATORS,
    PARENTS,
    PROVIDER_STAFF,
    Official,
    Parent,
    Platform,
    ProviderStaff,
    needs,
)
from qosym_contracts.types import REGION_CODE_PATTERN

__all__ = [
    "ComplaintReader",
    "Deps",
    "DistrictQuery",
    "Manager",
    "Official",
    "Parent",
    "Participant",
    "Platform",
    "ProviderStaff",
    "RegionQuery",
    "Registrant",
    "Requester",
    "caller_of",
]


def get_deps(request: Request) -> Dependencies:
    catalog: Catalog = request.app.state.catalog
    return catalog.deps


Deps = Annotated[Dependencies, Depends(get_deps)]

Registrant = Annotated[Principal, needs(PROVIDER_STAFF, OPERATORS)]
"""A provider's staff registering their organisation, or an operator registering it for them."""
Manager = Annotated[Principal, needs(PROVIDER_STAFF, OFFICIALS)]
"""Who manages a provider: its staff, an operator of its region, an administrator."""
Requester = Annotated[Principal, needs(PARENTS, OPERATORS)]
"""A parent for their own child, or an operator for a child of their region."""
Participant = Annotated[Principal, needs(PARENTS, PROVIDER_STAFF, OFFICIALS)]
"""Anyone party to an enrolment: the guardian, the provider's staff, the officials of its region."""
ComplaintReader = Annotated[Principal, needs(PARENTS, OFFICIALS)]
"""The parent who filed a complaint and the officials who resolve it."""

RegionQuery = Annotated[str | None, Query(pattern=REGION_CODE_PATTERN, examples=["astana"])]
DistrictQuery = Annotated[str | None, Query(pattern=REGION_CODE_PATTERN, examples=["yesil"])]


def caller_of(principal: Principal) -> Caller:
    """Who is calling; what they may reach is decided in :mod:`catalog.service_layer.access`."""
    return Caller.of(principal)
