"""Object-level authorisation: only a thread's participants read or write it; anyone else is told it does not exist
(a 404, so a stranger cannot even learn that a thread exists)."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.adapters import subject_repository, thread_repository
from conversations.domain.participants import Caller, NotAParticipant, Side, Thread, side_of
from qosym_chassis.auth import Principal
from qosym_chassis.errors import NotFound


def caller_of(principal: Principal) -> Caller:
    return Caller(
        role=principal.role,
        subject=principal.subject,
        provider_id=principal.scope.get("provider"),
        region_code=principal.scope.get("region"),
        district_code=principal.scope.get("district"),
    )


async def participant(session: AsyncSession, caller: Caller, thread_id: UUID) -> tuple[Thread, Side, list[str]]:
    """The thread, the caller's side in it and the child's guardians; NotFound for anyone else."""
    thread = await thread_repository.get(session, thread_id)
    if thread is None:
        raise NotFound("no such thread")
    guardians = await subject_repository.guardians_of(session, thread.subject.child_id)
    try:
        side = side_of(caller, thread.subject, thread.counterpart, guardians)
    except NotAParticipant:
        raise NotFound("no such thread") from None
    return thread, side, guardians
