"""What a route receives: the service's dependencies, and who may call (built from qosym_chassis.callers)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from partners.service_layer.dependencies import Dependencies
from qosym_chassis.auth import Principal
from qosym_chassis.callers import PARTNERS, needs


def _deps(request: Request) -> Dependencies:
    deps: Dependencies = request.app.state.partners.deps
    return deps


Deps = Annotated[Dependencies, Depends(_deps)]
Partner = Annotated[Principal, needs(PARTNERS)]
"""A partner's service account (registry's client-credentials grant): it sees and changes its own webhooks only."""
