"""The registry's audit trail: the chassis trail (keyed MACs, signed heads outside the database).

``append(session, actor, action, entity, entity_id, data)`` records a change in the caller's transaction; the
session comes from the service's session factory, which carries the trail's keys (see qosym_chassis.audit).
"""

from __future__ import annotations

from qosym_chassis.audit import Actor, AuditTrail, Verification, append

__all__ = ["Actor", "AuditTrail", "Verification", "append"]
