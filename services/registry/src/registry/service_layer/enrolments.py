"""Which providers a child is enrolled with (catalog's enrolment events): their staff may read the child's display
name, and nothing else of the child's record."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from qosym_chassis.auth import Principal
from qosym_chassis.errors import NotFound
from qosym_contracts.catalog import EnrolmentConfirmedV1, EnrolmentEndedV1
from registry.adapters import children_repository as children
from registry.service_layer.dependencies import Dependencies
from registry.service_layer.paging import Page


async def on_enrolment_confirmed(deps: Dependencies | None, session: AsyncSession, event: EnrolmentConfirmedV1) -> None:
    await children.enrolment_confirmed(session, event.enrolment_id, event.child_id, event.provider_id)


async def on_enrolment_ended(deps: Dependencies | None, session: AsyncSession, event: EnrolmentEndedV1) -> None:
    await children.enrolment_ended(session, event.enrolment_id, event.child_id)


def check_own_provider(principal: Principal, provider_id: UUID) -> None:
    """Provider staff read only their own organisation's children: anything else is 'not found' (as payments' and
    catalog's provider routes answer)."""
    if principal.role == "provider_staff" and principal.scope.get("provider") != str(provider_id):
        raise NotFound("no such provider")


async def enrolled_children(
    deps: Dependencies, principal: Principal, provider_id: UUID, child_ids: list[UUID], offset: int, limit: int
) -> Page[tuple[UUID, str | None]]:
    """The children currently enrolled with the provider (id and display name), by id."""
    check_own_provider(principal, provider_id)
    async with deps.sessions() as session:
        items, total = await children.enrolled_children(session, provider_id, child_ids, offset, limit)
    return Page(items, total, offset, limit)
