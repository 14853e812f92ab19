"""Priority categories: a guardian declares one with evidence; an operator reviews, verifies, rejects, amends,
checks it with the state registry and opens its evidence."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, File, Form, Response, UploadFile, status

from qosym_chassis.callers import Operator, Parent
from qosym_chassis.errors import FieldError
from qosym_chassis.inputs import Limit, Offset, OffsetPage
from registry.domain.categories import Claim, QueuedClaim
from registry.domain.people import EVIDENCE_MAX_BYTES
from registry.entrypoints.dependencies import Deps, EvidenceReader
from registry.entrypoints.paging import offset_page
from registry.entrypoints.schemas import AmendmentIn, DecisionIn
from registry.service_layer import categories
from registry.service_layer.access import actor_of, guardian_id, scope_of

category_router = APIRouter()
EVIDENCE_EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


@category_router.post(
    "/v1/children/{child_id}/categories",
    status_code=status.HTTP_201_CREATED,
    tags=["categories"],
    responses={404: {}, 409: {}, 413: {}, 422: {}},
    max_body_size=EVIDENCE_MAX_BYTES + 64 * 1024,
)
async def declare_category(
    child_id: UUID,
    parent: Parent,
    deps: Deps,
    code: Annotated[str, Form(min_length=1, max_length=64)],
    file: Annotated[UploadFile, File(description="PDF, JPEG or PNG, at most 5 MiB")],
) -> categories.Declared:
    """Declare a priority category for a child, with an evidence document (multipart/form-data)."""
    guardian_id(parent)
    document = await file.read(EVIDENCE_MAX_BYTES + 1)
    if len(document) > EVIDENCE_MAX_BYTES:
        raise FieldError("file", "evidence is at most 5 MiB", code="evidence_too_large")
    return await categories.declare(deps, child_id, actor_of(parent), code, document)


@category_router.get("/v1/children/{child_id}/categories", tags=["categories"], responses={404: {}})
async def child_categories(
    child_id: UUID, parent: Parent, deps: Deps, offset: Offset = 0, limit: Limit = 50
) -> OffsetPage[Claim]:
    """The child's category claims by code, for one of its guardians."""
    return offset_page(await categories.claims_of(deps, child_id, guardian_id(parent), offset, limit))


@category_router.get("/v1/review/categories", tags=["review"])
async def pending_categories(
    operator: Operator, deps: Deps, offset: Offset = 0, limit: Limit = 50
) -> OffsetPage[QueuedClaim]:
    """Declared categories waiting for a decision, oldest first (only the operator's region and district when the
    token is scoped), each with its child's masked IIN."""
    return offset_page(await categories.pending(deps, scope_of(operator), offset, limit))


@category_router.post("/v1/categories/{claim_id}/verify", tags=["review"], responses={404: {}, 409: {}})
async def verify_category(claim_id: UUID, body: DecisionIn, operator: Operator, deps: Deps) -> categories.Decided:
    return await categories.decide(
        deps,
        claim_id,
        actor_of(operator),
        scope_of(operator),
        verified=True,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        reason=body.reason,
    )


@category_router.post("/v1/categories/{claim_id}/reject", tags=["review"], responses={404: {}, 409: {}})
async def reject_category(claim_id: UUID, body: DecisionIn, operator: Operator, deps: Deps) -> categories.Decided:
    return await categories.decide(
        deps,
        claim_id,
        actor_of(operator),
        scope_of(operator),
        verified=False,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        reason=body.reason,
    )


@category_router.post("/v1/categories/{claim_id}/amend", tags=["review"], responses={404: {}, 409: {}, 422: {}})
async def amend_category(claim_id: UUID, body: AmendmentIn, operator: Operator, deps: Deps) -> categories.Decided:
    """Change a verified claim's validity on purpose: both dates explicit (null = the current start / no end), a reason;
    the previous decision stays on the audit trail and the child's verified set is published again."""
    return await categories.amend(
        deps,
        claim_id,
        actor_of(operator),
        scope_of(operator),
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        reason=body.reason,
    )


@category_router.get(
    "/v1/categories/{claim_id}/evidence",
    tags=["review"],
    response_class=Response,
    responses={
        200: {
            "description": "the evidence document as uploaded, as an attachment",
            "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in EVIDENCE_EXTENSIONS},
        },
        404: {},
    },
)
async def open_evidence(claim_id: UUID, who: EvidenceReader, deps: Deps) -> Response:
    """The newest evidence document of a claim, decrypted, as a download: for an operator whose region (and
    district) scope covers the child, or one of the child's guardians; 404 for anyone else. Audited."""
    found = await categories.open_evidence(
        deps, claim_id, actor_of(who), scope_of(who) if who.role == "operator" else None
    )
    extension = EVIDENCE_EXTENSIONS.get(found.content_type, "bin")
    media_type = found.content_type if found.content_type in EVIDENCE_EXTENSIONS else "application/octet-stream"
    return Response(
        content=found.content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="evidence-{found.evidence_id}.{extension}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'none'; sandbox; frame-ancestors 'none'",
            "Cross-Origin-Resource-Policy": "same-origin",
        },
    )


@category_router.post("/v1/categories/{claim_id}/check", tags=["review"], responses={404: {}, 502: {}})
async def check_category(claim_id: UUID, operator: Operator, deps: Deps) -> categories.Checked:
    """Confirm a declared category through the state registry (verifies it when confirmed)."""
    return await categories.check_with_state_registry(deps, claim_id, actor_of(operator), scope_of(operator))
