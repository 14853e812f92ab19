"""The treasury's side: a batch confirmed as paid, or a bank statement imported."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request

from payments.entrypoints import schemas
from payments.entrypoints.dependencies import Deps, TreasuryConfirmer
from payments.service_layer import batches

router = APIRouter(tags=["treasury"])
STATEMENT_EXAMPLE = (
    "end_to_end_id,amount,currency,reference,booked_at\n"
    "6f1c0b7e9d2a4c3b8e5f1a2b3c4d5e6f,84000.00,KZT,TRS-2026-12-000123,2026-12-05T10:00:00+05:00\n"
)


@router.post("/v1/batches/{batch_id}/treasury-confirmation", responses={404: {}, 409: {}})
async def confirm_batch(
    batch_id: UUID, body: schemas.TreasuryConfirmationIn, _: TreasuryConfirmer, deps: Deps
) -> schemas.ConfirmationOut:
    """The treasury executed the whole order: each provider is paid (ProviderPaid); repeating it changes nothing."""
    result = await batches.confirm_batch(deps, batch_id, body.treasury_reference, body.paid_at)
    return schemas.out(schemas.ConfirmationOut, result)


@router.post(
    "/v1/treasury/statements",
    responses={422: {}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}, "example": STATEMENT_EXAMPLE}},
        }
    },
)
async def import_statement(request: Request, _: TreasuryConfirmer, deps: Deps) -> schemas.ConfirmationOut:
    """Import the treasury's statement (CSV: end_to_end_id,amount,currency,reference,booked_at): all lines or none;
    lines imported before are counted as already confirmed."""
    return schemas.out(schemas.ConfirmationOut, await batches.import_statement(deps, await request.body()))
