"""Payment batches, maker–checker: prepare, approve (writes the pain.001 payment order), cancel, read."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from payments.entrypoints import schemas
from payments.entrypoints.dependencies import Deps, PaymentOrderReader, PeriodQuery, RegionQuery
from payments.service_layer import access, batches
from qosym_chassis.callers import Administrator, FinanceReader
from qosym_chassis.inputs import Limit, Offset, OffsetPage

router = APIRouter(tags=["batches"])


@router.post("/v1/batches", status_code=201, responses={403: {}, 409: {}, 422: {}})
async def prepare_batch(body: schemas.PrepareBatchIn, maker: Administrator, deps: Deps) -> schemas.BatchOut:
    """The maker: group a region's unpaid accruals of a month per provider into a batch awaiting approval."""
    batch = await batches.prepare(deps, body.region_code, body.period, str(access.staff_id(maker)))
    return schemas.out(schemas.BatchOut, batch)


@router.get("/v1/batches")
async def list_batches(
    _: FinanceReader,
    deps: Deps,
    region_code: RegionQuery = None,
    period: PeriodQuery = None,
    status: Annotated[str | None, Query(pattern="^(prepared|approved|paid|cancelled)$")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> OffsetPage[schemas.BatchSummaryOut]:
    page = await batches.list_batches(deps, region_code, period, status, limit, offset)
    return schemas.paged(schemas.BatchSummaryOut, page)


@router.get("/v1/batches/{batch_id}", responses={404: {}})
async def get_batch(batch_id: UUID, _: FinanceReader, deps: Deps) -> schemas.BatchOut:
    return schemas.out(schemas.BatchOut, await batches.get_batch(deps, batch_id))


@router.post("/v1/batches/{batch_id}/approve", responses={403: {}, 404: {}, 409: {}})
async def approve_batch(batch_id: UUID, checker: Administrator, deps: Deps) -> schemas.BatchOut:
    """The checker (a different administrator): approve, write and validate the pain.001 payment order."""
    return schemas.out(schemas.BatchOut, await batches.approve(deps, batch_id, str(access.staff_id(checker))))


@router.post("/v1/batches/{batch_id}/cancel", responses={404: {}, 409: {}})
async def cancel_batch(batch_id: UUID, admin: Administrator, deps: Deps) -> schemas.BatchOut:
    """Give up a prepared batch: its accruals become payable again."""
    return schemas.out(schemas.BatchOut, await batches.cancel(deps, batch_id, admin.subject))


@router.get(
    "/v1/batches/{batch_id}/payment-order",
    responses={
        200: {
            "description": "the batch's pain.001.001.09 payment order",
            "content": {"application/xml": {"schema": {"type": "string", "format": "binary"}}},
        },
        404: {},
        409: {},
    },
    response_class=Response,
)
async def get_payment_order(batch_id: UUID, _: PaymentOrderReader, deps: Deps) -> Response:
    """The approved batch's ISO 20022 pain.001.001.09 file; its sha256 is in the header and in the batch."""
    order = await batches.payment_order(deps, batch_id)
    return Response(
        order.content,
        media_type="application/xml",
        headers={"X-Content-SHA256": order.sha256, "Content-Disposition": f'attachment; filename="{order.filename}"'},
    )
