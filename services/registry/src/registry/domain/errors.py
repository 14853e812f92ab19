"""The registry's rule failures, each one of the chassis's error types (docs/architecture.md, "Layers"): the app
factory answers them as problem+json, so neither a use case nor a route translates anything."""

from __future__ import annotations

from uuid import UUID

from qosym_chassis.errors import Conflict, FieldError, Forbidden


class RegistrationRefused(FieldError, ValueError):
    """A rule refused a value the caller gave: a field error naming ``field`` (422). ``str()`` is the message."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(field, message, code=code)
        self.field = field
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


class Refused(Conflict):
    """A rule refused the change given the object's current state (409)."""

    def __init__(self, message: str, *, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(message, errors=errors)


class AlreadyRegistered(Refused):
    """The IIN belongs to a record registered by someone else (or with another phone)."""


class RegisteredElsewhere(Refused):
    """The caller's own child is already registered in another region or district: a move goes through the move
    flow (PATCH /v1/children/{id}), never through registering again. A 409 naming the field."""

    def __init__(self, field: str, child_id: UUID) -> None:
        place = "region" if field == "region_code" else "district"
        message = (
            f"this child is already registered in another {place}; "
            f"if the family moved, change it with PATCH /v1/children/{child_id}"
        )
        super().__init__(message, errors=[{"field": field, "message": message, "type": "registered_elsewhere"}])
        self.field = field
        self.child_id = child_id


class NotAGuardian(Forbidden):
    """The caller is not a registered adult person, so cannot be a child's guardian (403)."""
