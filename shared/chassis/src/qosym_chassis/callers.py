"""Who may call a route: role sets declared once, each with one meaning, for every service.

A route names the people it serves by combining these sets, never by retyping role names::

    from qosym_chassis.callers import OPERATORS, PARENTS, Official, needs

    @router.post("/v1/categories/{claim_id}/decision")
    async def decide(principal: Official, ...): ...

    Requester = Annotated[Principal, needs(PARENTS, OPERATORS)]   # a parent for their own child, or an operator at a service point

Which objects a caller may touch (their own child, their provider, their region) is each service's
``service_layer/access.py``; this module only says which roles may try at all (403 otherwise).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from qosym_chassis.auth import ROLES, Principal, require_roles

RoleSet = tuple[str, ...]

PARENTS: RoleSet = ("parent",)
"""Guardians acting for their own children."""
PROVIDER_STAFF: RoleSet = ("provider_staff",)
"""Staff of one provider (the token's ``scope.provider``)."""
OPERATORS: RoleSet = ("operator",)
"""Officials of one region (and optionally one district): consultation points, reviewers."""
ADMINISTRATORS: RoleSet = ("administrator",)
"""Platform administrators: rounds, regions, payment batches."""
AUDITORS: RoleSet = ("auditor",)
"""Read-only oversight of everything."""
OPS: RoleSet = ("ops",)
"""The people who run the platform: dead letters, scans, replays."""
PARTNERS: RoleSet = ("partner",)
"""Service accounts of partners (the treasury, state systems)."""

OFFICIALS: RoleSet = OPERATORS + ADMINISTRATORS
"""Those who decide on people's claims and providers: a region's operators and the administrators."""
OVERSIGHT: RoleSet = ADMINISTRATORS + AUDITORS + OPS
"""Whole-platform, read-mostly checks: reconciliation, audit trails, dead letters."""
RECORD_READERS: RoleSet = OFFICIALS + AUDITORS
"""Staff who may read people's records (within their scope)."""
FINANCE_READERS: RoleSet = ADMINISTRATORS + AUDITORS
"""Staff who read budgets, ledgers and payment batches."""
PLATFORM: RoleSet = ADMINISTRATORS + OPS
"""Staff who operate the platform itself (service accounts, scans)."""
EVERYONE: RoleSet = ROLES
"""Any authenticated caller."""


def roles(*sets: RoleSet) -> RoleSet:
    """The union of role sets, in first-seen order, without repeats."""
    seen: dict[str, None] = {}
    for role_set in sets:
        for role in role_set:
            if role not in ROLES:
                raise ValueError(f"unknown role {role!r}")
            seen.setdefault(role, None)
    return tuple(seen)


def needs(*sets: RoleSet) -> Any:
    """The dependency admitting the union of these role sets (403 problem+json for anyone else), for
    ``Annotated[Principal, needs(PARENTS, OPERATORS)]``."""
    return Depends(require_roles(*roles(*sets)))


Parent = Annotated[Principal, needs(PARENTS)]
ProviderStaff = Annotated[Principal, needs(PROVIDER_STAFF)]
Operator = Annotated[Principal, needs(OPERATORS)]
Administrator = Annotated[Principal, needs(ADMINISTRATORS)]
Official = Annotated[Principal, needs(OFFICIALS)]
Oversight = Annotated[Principal, needs(OVERSIGHT)]
RecordReader = Annotated[Principal, needs(RECORD_READERS)]
FinanceReader = Annotated[Principal, needs(FINANCE_READERS)]
Platform = Annotated[Principal, needs(PLATFORM)]
Anyone = Annotated[Principal, needs(EVERYONE)]
