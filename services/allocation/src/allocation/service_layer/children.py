"""The child projection: the registry's children, guardianships and verified categories, and who may read them
(docs/architecture.md, "Service anatomy")."""

from __future__ import annotations

from uuid import UUID

from fastapi_pagination.ext.sqlalchemy import apaginate
from sqlalchemy.ext.asyncio import AsyncSession

from allocation.adapters import child_queries, child_repository
from allocation.domain.children import ChildView
from allocation.domain.ranking import Category
from allocation.service_layer.access import Caller
from allocation.service_layer.dependencies import Dependencies
from allocation.service_layer.views import CategoryOut, ChildOut
from qosym_chassis.consumer import Reject
from qosym_chassis.errors import NotFound
from qosym_chassis.inputs import OffsetPage
from qosym_contracts.registry import (
    ChildCategoriesVerifiedV1,
    ChildDetailsChangedV1,
    ChildRegisteredV1,
    GuardianshipEndedV1,
    GuardianshipEstablishedV1,
)

# --- reads ------------------------------------------------------------------------------------------


async def list_children(deps: Dependencies, caller: Caller, region_code: str | None) -> OffsetPage[ChildOut]:
    """Children known to allocation, for staff: an operator only their region's (and district's)."""
    region, district = caller.children_scope(region_code)
    async with deps.sessions() as session:
        page: OffsetPage[ChildOut] = await apaginate(session, child_queries.children_query(region, district))
    return page


async def get_child(deps: Dependencies, caller: Caller, child_id: UUID) -> ChildOut:
    """A child with its verified categories: for its guardians, and staff serving its region and district."""
    async with deps.sessions() as session:
        view = await child_repository.get_child(session, child_id)
        allowed = view is not None and (
            (caller.reader and caller.serves(view.region_code, view.district_code))
            or await child_repository.is_guardian(session, child_id, caller.subject)
        )
        categories = await child_repository.categories_of(session, child_id) if allowed else []
    if view is None or not allowed:
        raise NotFound("no such child")
    return ChildOut(
        child_id=view.child_id,
        birth_date=view.birth_date,
        sex=view.sex,
        region_code=view.region_code,
        district_code=view.district_code,
        registered_at=view.registered_at,
        verified_categories=[
            CategoryOut(code=c.code, valid_from=c.valid_from, valid_until=c.valid_until) for c in categories
        ],
    )


async def serves_child(session: AsyncSession, child_id: UUID, staff: Caller | None) -> bool:
    """Whether ``staff`` reads for the child's region and district (see :mod:`allocation.service_layer.access`)."""
    if staff is None or not staff.reader:
        return False
    view = await child_repository.get_child(session, child_id)
    return view is not None and staff.serves(view.region_code, view.district_code)


# --- event handlers ---------------------------------------------------------------------------------


async def on_child_registered(deps: Dependencies, session: AsyncSession, event: ChildRegisteredV1) -> None:
    await child_repository.record_child(
        session,
        ChildView(
            child_id=event.child_id,
            guardian_id=event.guardian_id,
            birth_date=event.birth_date,
            sex=event.sex,
            region_code=event.region_code,
            district_code=event.district_code,
            registered_at=event.occurred_at,
        ),
    )


async def on_child_details_changed(deps: Dependencies, session: AsyncSession, event: ChildDetailsChangedV1) -> None:
    """A family moved: later applications use the new district (earlier ones keep the district they were ranked in)."""
    if not await child_repository.move_child(session, event.child_id, event.region_code, event.district_code):
        raise Reject(f"child {event.child_id} is unknown here; ChildRegistered must come first on this key")


async def on_guardianship_established(
    deps: Dependencies, session: AsyncSession, event: GuardianshipEstablishedV1
) -> None:
    await child_repository.record_guardianship(session, event.child_id, event.guardian_id, True, event.occurred_at)


async def on_guardianship_ended(deps: Dependencies, session: AsyncSession, event: GuardianshipEndedV1) -> None:
    await child_repository.record_guardianship(session, event.child_id, event.guardian_id, False, event.occurred_at)


async def on_categories_verified(deps: Dependencies, session: AsyncSession, event: ChildCategoriesVerifiedV1) -> None:
    await child_repository.replace_categories(
        session,
        event.child_id,
        [Category(c.code, c.valid_from, c.valid_until) for c in event.categories],
        event.occurred_at,
    )
