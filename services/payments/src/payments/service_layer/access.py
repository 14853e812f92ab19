"""Who may touch which of payments' objects (the roles themselves are checked by the routes)."""

from __future__ import annotations

from uuid import UUID

from qosym_chassis.auth import Principal
from qosym_chassis.errors import Forbidden, NotFound


def staff_id(principal: Principal) -> UUID:
    """Makers and checkers are staff accounts: the token's subject is the account's id, and that id (never a
    username) is what the batch records and PaymentBatchApproved carries."""
    try:
        return UUID(principal.subject)
    except ValueError:
        raise Forbidden("a payment batch is prepared and approved from a staff account's token") from None


def check_own_provider(principal: Principal, provider_id: UUID) -> None:
    """Provider staff see only their own organisation's money: anything else is 'not found'."""
    if principal.role == "provider_staff" and principal.scope.get("provider") != str(provider_id):
        raise NotFound("no such provider")


def person_id(principal: Principal) -> UUID:
    """A parent's token names the person (their guardian id) as its subject."""
    try:
        return UUID(principal.subject)
    except ValueError:
        raise Forbidden("the family budget is read from a parent's own account") from None
