"""A provider's view of the registry: the display names of the children enrolled with it, for its coaches."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from qosym_chassis.auth import Principal
from qosym_chassis.callers import ADMINISTRATORS, PROVIDER_STAFF, needs
from qosym_chassis.inputs import Limit, Offset, OffsetPage
from registry.entrypoints.dependencies import Deps
from registry.entrypoints.paging import offset_page
from registry.entrypoints.schemas import EnrolledChildOut
from registry.service_layer import enrolments

provider_router = APIRouter(tags=["providers"])

EnrolledChildrenReader = Annotated[Principal, needs(PROVIDER_STAFF, ADMINISTRATORS)]
"""A provider's own staff (their provider only: service_layer/enrolments.py), and the administrators."""

MAX_CHILD_IDS = 200


@provider_router.get("/v1/providers/{provider_id}/children", responses={404: {}, 422: {}})
async def list_enrolled_children(
    provider_id: UUID,
    principal: EnrolledChildrenReader,
    deps: Deps,
    child_id: Annotated[
        list[UUID],
        Query(max_length=MAX_CHILD_IDS, description="only these children (repeat the parameter); all when omitted"),
    ] = [],  # noqa: B006 (FastAPI copies a query default)
    offset: Offset = 0,
    limit: Limit = 50,
) -> OffsetPage[EnrolledChildOut]:
    """The children currently enrolled with the provider (a confirmed enrolment that has not ended), each as its id
    and display name only, by id. Staff of another provider are answered 404, as for no such provider."""
    page = await enrolments.enrolled_children(deps, principal, provider_id, child_id, offset, limit)
    return offset_page(page.map(lambda item: EnrolledChildOut(id=item[0], name=item[1])))
