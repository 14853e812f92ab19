"""Who the caller is, as the use cases see them: an audit actor, an operator scope, a person id.

Object-level authorisation (their own child, their region) is checked by each use case against these; the role
sets that may try at all are the routes' (``qosym_chassis.callers``).
"""

from __future__ import annotations

from uuid import UUID

from qosym_chassis.auth import Principal
from qosym_chassis.callers import ADMINISTRATORS
from qosym_chassis.errors import Unprocessable
from registry.adapters.audit import Actor
from registry.domain.model import OperatorScope


def actor_of(principal: Principal) -> Actor:
    return Actor(principal.subject, principal.role, principal.acting_for)


def scope_of(staff: Principal) -> OperatorScope:
    """An operator's region (and district) from their token; an administrator is unscoped by design."""
    if staff.role in ADMINISTRATORS:
        return OperatorScope(everywhere=True)
    return OperatorScope(region=staff.scope.get("region"), district=staff.scope.get("district"))


def guardian_id(principal: Principal) -> UUID:
    """A parent's person id (the token's subject)."""
    try:
        return UUID(principal.subject)
    except ValueError as exc:
        raise Unprocessable("the token's subject is not a person id") from exc


def person_id(actor: Actor) -> UUID | None:
    try:
        return UUID(actor.subject)
    except ValueError:
        return None
