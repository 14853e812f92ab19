"""``GET /v1/audit/verify`` and ``POST /v1/audit/heads`` of every service that keeps an audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel

from qosym_chassis.audit import AuditTrail
from qosym_chassis.auth import Principal, require_roles
from qosym_chassis.context import ServiceContext


class AuditVerificationOut(BaseModel):
    ok: bool
    rows: int
    first_broken_seq: int | None
    first_broken_id: int | None
    reason: str | None
    heads_checked: int
    latest_head_seq: int | None
    first_broken_chain: str | None = None


class AuditHeadOut(BaseModel):
    service: str
    last_seq: int
    last_mac: str
    rows: int
    at: datetime
    file: str | None


AuditReader = Annotated[Principal, Depends(require_roles("auditor", "administrator"))]


def _context(request: Request) -> tuple[ServiceContext, AuditTrail]:
    context: ServiceContext = request.app.state.context
    assert context.audit is not None
    return context, context.audit


def audit_router() -> APIRouter:
    router = APIRouter(tags=["audit"])

    @router.get("/v1/audit/verify")
    async def verify_audit(_: AuditReader, request: Request) -> AuditVerificationOut:
        """Recompute every row's keyed mac and link, then check every signed head (outside the database) against
        the rows: names the first broken row, or the head whose rows are gone."""
        context, trail = _context(request)
        async with context.session_factory() as session:
            result = await trail.verify(session)
        return AuditVerificationOut(**result.__dict__)

    @router.post("/v1/audit/heads", status_code=status.HTTP_201_CREATED)
    async def publish_audit_head(_: AuditReader, request: Request) -> AuditHeadOut:
        """Sign the chain's current head (last seq, last mac, row count, time) and write it to the head folder
        now (the relay also does this periodically); every head is kept."""
        context, trail = _context(request)
        async with context.session_factory() as session:
            head = await trail.publish_head(session, force=True)
        assert head is not None
        return AuditHeadOut(
            service=head.service,
            last_seq=head.last_seq,
            last_mac=head.last_mac.hex(),
            rows=head.rows,
            at=head.at,
            file=head.path.name if head.path else None,
        )

    return router
