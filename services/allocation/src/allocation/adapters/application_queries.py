"""Read-side SQL of applications: a guardian's applications (docs/architecture.md, "Service anatomy")."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Select, column, false, func, or_, select, table

APPLICATION = table(  # what the guardian submitted with what the latest allocation run decided (migration 0006)
    "application_outcome",
    *(
        column(name)
        for name in (
            "application_id",
            "public_id",
            "round_id",
            "child_id",
            "guardian_id",
            "district_code",
            "direction",
            "status",
            "submitted_at",
            "withdrawn_at",
            "score",
            "lottery",
            "rank",
            "allocated_outcome",
            "allocated_via",
            "waitlist_position",
            "score_breakdown",
        )
    ),
)
GUARDIANSHIP = table("guardianship", column("child_id"), column("guardian_id"), column("active"))


def guardian_applications_query(person: UUID | None) -> Select[Any]:
    """The applications a person made or now holds as an active guardian, newest first (the same columns as
    :func:`allocation.adapters.application_repository.get_application`); none for no person."""
    a = APPLICATION
    held = select(GUARDIANSHIP.c.child_id).where(GUARDIANSHIP.c.guardian_id == person, GUARDIANSHIP.c.active)
    columns = [c for c in a.c if c.name != "lottery"] + [func.encode(a.c.lottery, "hex").label("lottery")]
    if person is None:
        return select(*columns).where(false())
    return (
        select(*columns)
        .where(or_(a.c.guardian_id == person, a.c.child_id.in_(held)))
        .order_by(a.c.submitted_at.desc(), a.c.application_id)
    )
