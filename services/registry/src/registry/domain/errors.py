"""The registry's rule failures, pure (no HTTP): the service layer maps each to one chassis error type
(docs/architecture.md, "Layers": domain rules raise, use cases speak the chassis's errors)."""

from __future__ import annotations

from uuid import UUID


class RegistrationRefused(ValueError):
    """A rule refused a value the caller gave: answered as a field error naming ``field`` (422)."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code


class Refused(Exception):
    """A rule refused the change given the object's current state (409)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class AlreadyRegistered(Refused):
    """The IIN belongs to a record registered by someone else (or with another phone)."""


class RegisteredElsewhere(Refused):
    """The caller's own child is already registered in another region or district: a move goes through the move
    flow (PATCH /v1/children/{id}), never through registering again."""

    def __init__(self, field: str, child_id: UUID) -> None:
        place = "region" if field == "region_code" else "district"
        super().__init__(
            f"this child is already registered in another {place}; "
            f"if the family moved, change it with PATCH /v1/children/{child_id}"
        )
        self.field = field
        self.child_id = child_id


class NotAGuardian(Exception):
    """The caller is not a registered adult person, so cannot be a child's guardian (403)."""
