"""What a route receives: the bootstrapped ``Dependencies`` and the registry's caller aliases (built from the
chassis's role sets, docs/architecture.md "Service anatomy")."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials

from qosym_chassis.auth import Principal, _bearer, current_principal
from qosym_chassis.callers import OFFICIALS, OPERATORS, PARENTS, needs
from registry.bootstrap import Registry
from registry.service_layer.dependencies import Dependencies


def get_registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


def get_deps(request: Request) -> Dependencies:
    return get_registry(request).deps


Deps = Annotated[Dependencies, Depends(get_deps)]
RegistryDep = Annotated[Registry, Depends(get_registry)]

EvidenceReader = Annotated[Principal, needs(OPERATORS, PARENTS)]
"""An operator whose scope covers the child, or one of the child's guardians."""


async def optional_staff(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal | None:
    """An official's (operator's or administrator's) verified token, None for anyone else (who then registers by
    code)."""
    if credentials is None:
        return None
    principal = await current_principal(request, credentials)
    return principal if principal.has_role(*OFFICIALS) else None


Staff = Annotated[Principal | None, Depends(optional_staff)]


def client_address(request: Request) -> str:
    """The TCP peer, or the client a trusted proxy names (uvicorn applies QOSYM_TRUSTED_PROXIES)."""
    return request.client.host if request.client else "unknown"
