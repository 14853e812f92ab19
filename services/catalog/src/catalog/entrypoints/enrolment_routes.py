"""Enrolments: request, read, end, decline, change club; the expiry sweep on demand."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, status

from catalog.entrypoints.dependencies import (
    Deps,
    Manager,
    Participant,
    Platform,
    ProviderStaff,
    Requester,
    caller_of,
)
from catalog.entrypoints.schemas import ChangeClubIn, EndIn, EnrolmentIn, EnrolmentOut, EnrolmentsExpired
from catalog.service_layer import enrolments
from qosym_chassis.inputs import Limit, Offset, OffsetPage

router = APIRouter(tags=["enrolments"])


@router.post("/v1/enrolments", status_code=status.HTTP_202_ACCEPTED, responses={404: {}, 409: {}, 422: {}})
async def request_enrolment(body: EnrolmentIn, who: Requester, deps: Deps) -> EnrolmentOut:
    """Reserve a seat for the caller's child; the voucher is assigned asynchronously (status requested)."""
    return await enrolments.request(deps, caller_of(who), body.child_id, body.programme_id)


@router.get("/v1/enrolments/{enrolment_id}", responses={404: {}})
async def get_enrolment(enrolment_id: UUID, who: Participant, deps: Deps) -> EnrolmentOut:
    return await enrolments.get(deps, caller_of(who), enrolment_id)


@router.get("/v1/children/{child_id}/enrolments", responses={404: {}, 422: {}})
async def child_enrolments(
    child_id: UUID, who: Requester, deps: Deps, limit: Limit = 50, offset: Offset = 0
) -> OffsetPage[EnrolmentOut]:
    """A child's enrolments, oldest request first."""
    return await enrolments.of_child(deps, caller_of(who), child_id, limit, offset)


@router.get("/v1/providers/{provider_id}/enrolments", responses={404: {}, 422: {}})
async def provider_enrolments(
    provider_id: UUID, who: Manager, deps: Deps, limit: Limit = 50, offset: Offset = 0
) -> OffsetPage[EnrolmentOut]:
    """A provider's enrolments, oldest request first."""
    return await enrolments.of_provider(deps, caller_of(who), provider_id, limit, offset)


@router.post("/v1/enrolments/{enrolment_id}/end", responses={404: {}, 409: {}})
async def end_enrolment(enrolment_id: UUID, body: EndIn, who: Participant, deps: Deps) -> EnrolmentOut:
    """The parent, the provider or an operator ends an enrolment; the seat and the voucher are released."""
    return await enrolments.end(deps, caller_of(who), enrolment_id, body.reason)


@router.post("/v1/enrolments/{enrolment_id}/decline", responses={404: {}, 409: {}})
async def decline_enrolment(enrolment_id: UUID, body: EndIn, who: ProviderStaff, deps: Deps) -> EnrolmentOut:
    """The provider declines a child within the decline window (QOSYM_DECLINE_WINDOW_DAYS of the request)."""
    return await enrolments.decline(deps, caller_of(who), enrolment_id, body.reason)


@router.post(
    "/v1/enrolments/{enrolment_id}/change-club",
    status_code=status.HTTP_202_ACCEPTED,
    responses={404: {}, 409: {}, 422: {}},
)
async def change_club(enrolment_id: UUID, body: ChangeClubIn, who: Requester, deps: Deps) -> EnrolmentOut:
    """End this enrolment and request a seat in another programme; allocation moves the voucher."""
    return await enrolments.change_club(deps, caller_of(who), enrolment_id, body.programme_id, body.reason)


@router.post("/v1/admin/enrolments/expire", tags=["admin"])
async def expire_enrolments(who: Platform, deps: Deps) -> EnrolmentsExpired:
    """Run the expiry sweep now (the consumers process runs it every QOSYM_ENROLMENT_EXPIRY_SWEEP_INTERVAL_S):
    confirmed enrolments never attended within QOSYM_FIRST_SESSION_DAYS of confirmation end, once the timesheet of
    the window's last month has arrived (see the README)."""
    return await enrolments.expire_unattended(deps)
