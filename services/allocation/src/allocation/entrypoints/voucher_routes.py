"""Routes of allocation.service_layer.vouchers: a child's and a round's vouchers, decline, revoke, expiry."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi import APIRouter

from allocation.entrypoints.dependencies import AnyCaller, Deps
from allocation.entrypoints.schemas import RevokeIn
from allocation.service_layer import vouchers
from allocation.service_layer.views import ReOffered, Swept, VoucherOut
from qosym_chassis.callers import Administrator, Oversight, Parent
from qosym_chassis.inputs import OffsetPage

router = APIRouter(tags=["vouchers"])


@router.get("/v1/children/{child_id}/vouchers", responses={404: {}})
async def child_vouchers(child_id: UUID, caller: AnyCaller, deps: Deps) -> OffsetPage[VoucherOut]:
    return await vouchers.vouchers_of_child(deps, caller, child_id)


@router.get("/v1/rounds/{round_id}/vouchers", responses={404: {}})
async def round_vouchers(round_id: UUID, _: Oversight, deps: Deps) -> OffsetPage[VoucherOut]:
    """Every voucher awarded in the round (re-offers included, any status), for reconciliation with payments."""
    return await vouchers.round_vouchers(deps, round_id)


@router.post("/v1/vouchers/{voucher_id}/decline", responses={404: {}, 409: {}})
async def decline(voucher_id: UUID, parent: Parent, deps: Deps) -> ReOffered:
    """The holder gives the voucher up; it is re-offered to the next waitlisted child of the round."""
    return await vouchers.decline_voucher(deps, voucher_id, parent.subject)


@router.post("/v1/vouchers/{voucher_id}/revoke", responses={404: {}, 409: {}})
async def revoke(voucher_id: UUID, body: RevokeIn, _: Administrator, deps: Deps) -> ReOffered:
    return await vouchers.revoke_voucher(deps, voucher_id, body.reason, body.note)


@router.post("/v1/vouchers/expiry-sweep")
async def expiry_sweep(_: Administrator, deps: Deps, today: date | None = None) -> Swept:
    """Expire unassigned vouchers past their deadline and return released ones past their grace; re-offer them.
    ``today`` defaults to the service clock's day."""
    return await vouchers.expire_vouchers(deps, today)
