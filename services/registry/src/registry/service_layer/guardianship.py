"""Guardianship: who the child's guardians are, linking a second one, ending one (never the last)."""

from __future__ import annotations

from uuid import UUID

from qosym_chassis import outbox
from qosym_chassis.errors import NotFound
from qosym_chassis.iin import parse_iin
from qosym_contracts.registry import GuardianshipEndedV1, GuardianshipEstablishedV1
from registry.adapters import audit, people_repository
from registry.adapters import children_repository as children
from registry.adapters.audit import Actor
from registry.domain.errors import RegistrationRefused
from registry.domain.guardianship import check_unlink, is_guardian, may_unlink
from registry.domain.people import check_adult
from registry.service_layer.access import person_id
from registry.service_layer.children import NO_SUCH_CHILD
from registry.service_layer.dependencies import Dependencies
from registry.service_layer.paging import Page


async def guardians_of(deps: Dependencies, child_id: UUID, guardian_id: UUID, offset: int, limit: int) -> Page[UUID]:
    """The child's active guardians, for one of them (404 for anyone else, as for no child)."""
    async with deps.sessions() as session:
        guardians = await children.active_guardians(session, child_id)
    if not is_guardian(guardian_id, guardians):
        raise NotFound(NO_SUCH_CHILD)
    return Page.of(guardians, offset, limit)


async def link_guardian(deps: Dependencies, child_id: UUID, actor: Actor, iin_raw: str, relation: str) -> UUID:
    """Link a second guardian, named by their IIN; they must be a registered adult person."""
    today = deps.clock.today()
    iin = parse_iin(iin_raw, today=today)
    async with deps.sessions() as session, session.begin():
        guardians = await children.active_guardians(session, child_id)
        if not is_guardian(person_id(actor), guardians):
            raise NotFound(NO_SUCH_CHILD)
        second = await people_repository.find_person_by_index(session, deps.protector.blind_index(iin.value))
        if second is None:
            raise RegistrationRefused("iin", "person_not_registered", "the second guardian must register first")
        check_adult(iin, today)
        if second.id in guardians:
            return second.id
        await children.add_guardian(session, child_id, second.id, relation)
        await audit.append(
            session, actor, "guardianship.established", "child", child_id, {"guardian_id": str(second.id)}
        )
        await outbox.add_event(
            session,
            GuardianshipEstablishedV1.model_validate(
                {"child_id": child_id, "guardian_id": second.id, "relation": relation}
            ),
        )
    return second.id


async def unlink_guardian(deps: Dependencies, child_id: UUID, actor: Actor, guardian_id: UUID) -> None:
    async with deps.sessions() as session, session.begin():
        guardians = await children.active_guardians(session, child_id)
        if not may_unlink(person_id(actor), guardian_id, guardians):
            raise NotFound(NO_SUCH_CHILD)
        check_unlink(guardian_id, guardians)
        await children.end_guardianship(session, child_id, guardian_id, deps.clock.now())
        await audit.append(session, actor, "guardianship.ended", "child", child_id, {"guardian_id": str(guardian_id)})
        await outbox.add_event(session, GuardianshipEndedV1(child_id=child_id, guardian_id=guardian_id))
