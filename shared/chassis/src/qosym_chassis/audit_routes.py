"""``GET /v1/audit/entries``, ``GET /v1/audit/verify`` and ``POST /v1/audit/heads`` of every service that keeps an
audit trail (auditors and administrators only).

The entries are the trail's rows newest first, in keyset pages by the row's ``id`` (its place in the whole trail:
``seq`` counts within one chain only), with the recorded data as a one-line summary: rows hold ids and codes by
rule, and the summary still hides any value whose key names a secret or personal contact (password, secret,
token, totp, mac, key, otp, iin, phone, email) and masks every 12-digit number (an IIN or BIN) but its last four
digits, in case a free-text reason carries one.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import BaseModel, Field

from qosym_chassis.audit import AuditTrail
from qosym_chassis.auth import Principal, require_roles
from qosym_chassis.context import ServiceContext
from qosym_chassis.inputs import INT64_MAX, MAX_LIMIT, SafeText


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


class AuditEntryOut(BaseModel):
    id: int = Field(description="the row's place in the whole trail (every chain): page with ``before_id``")
    chain: str = Field(description="the chain the row belongs to (one per aggregate, by hash)")
    seq: int = Field(description="the row's number within its chain")
    at: datetime = Field(description="when the recorded change happened (the service's clock)")
    actor: str = Field(description="``role:subject`` (a staff account, person or service account id)")
    acting_for: str | None = Field(description="the person an operator acted for, when one did")
    action: str = Field(examples=["role.granted"])
    entity: str = Field(examples=["staff"])
    entity_id: str
    summary: str = Field(
        description="the recorded data as ``key=value`` pairs (nested keys dotted); secrets hidden, 12-digit"
        " numbers masked but their last four digits",
        examples=["role=operator; scope.region=astana"],
    )


class AuditEntriesOut(BaseModel):
    items: list[AuditEntryOut]
    limit: int
    next_before_id: int | None = Field(
        description="``before_id`` of the next, older page; null when this page is the last"
    )


AuditReader = Annotated[Principal, Depends(require_roles("auditor", "administrator"))]
EntityQuery = Annotated[SafeText | None, Query(max_length=100, description="only rows of this entity (``staff``)")]
EntityIdQuery = Annotated[SafeText | None, Query(max_length=200, description="only rows of this entity id")]
BeforeIdQuery = Annotated[
    int | None, Query(ge=1, le=INT64_MAX, description="only rows older than this id (a page's ``next_before_id``)")
]
EntriesLimit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size limit")]

HIDDEN = "[hidden]"
SECRET_WORDS = frozenset({"password", "secret", "token", "totp", "mac", "key", "otp", "iin", "phone", "email"})
TWELVE_DIGITS = re.compile(r"(?<!\d)\d{8}(\d{4})(?!\d)")
MAX_VALUE = 200
MAX_SUMMARY = 1000


def _secret(key: str) -> bool:
    return bool(SECRET_WORDS & set(re.split(r"[^a-z0-9]+", key.lower())))


def _pairs(prefix: str, value: Any) -> list[tuple[str, str]]:
    """``(dotted key, text)`` of every value under ``prefix``; a value under a secret's key is hidden."""
    if isinstance(value, dict) and (value or not prefix):
        return [
            pair
            for key in sorted(value, key=str)
            for pair in _pairs(f"{prefix}.{key}" if prefix else str(key), value[key])
        ]
    if any(_secret(part) for part in prefix.split(".")):
        return [(prefix, HIDDEN)]
    if isinstance(value, list):
        return [(prefix, _listed(value))]
    return [(prefix, "{}" if value == {} else _text(value))]


def _listed(values: list[Any]) -> str:
    """A list's items: a mapping as ``{key=value; …}`` (its secrets hidden too), a list as ``[…]``."""
    shown = []
    for value in values:
        if isinstance(value, dict):
            shown.append("{" + "; ".join(f"{key}={text}" for key, text in _pairs("", value)) + "}")
        elif isinstance(value, list):
            shown.append(_listed(value))
        else:
            shown.append(_text(value))
    return "[" + ", ".join(shown) + "]"


def _text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    text = TWELVE_DIGITS.sub(lambda m: "********" + m.group(1), text)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def summarise(data: dict[str, Any]) -> str:
    """A row's data as one line of ``key=value`` pairs, keys in order; secrets hidden, IIN-like numbers masked."""
    summary = "; ".join(f"{key}={text}" for key, text in _pairs("", data))
    return summary if len(summary) <= MAX_SUMMARY else summary[: MAX_SUMMARY - 1] + "…"


def _context(request: Request) -> tuple[ServiceContext, AuditTrail]:
    context: ServiceContext = request.app.state.context
    assert context.audit is not None
    return context, context.audit


def audit_router() -> APIRouter:
    router = APIRouter(tags=["audit"])

    @router.get("/v1/audit/entries")
    async def list_audit_entries(
        _: AuditReader,
        request: Request,
        entity: EntityQuery = None,
        entity_id: EntityIdQuery = None,
        before_id: BeforeIdQuery = None,
        limit: EntriesLimit = 50,
    ) -> AuditEntriesOut:
        """The trail's rows, newest first, in keyset pages (``next_before_id``), of one entity and id when asked;
        the recorded data as a summary (secrets hidden, IIN-like numbers masked)."""
        context, trail = _context(request)
        async with context.session_factory() as session:
            rows = await trail.entries(
                session, entity=entity, entity_id=entity_id, before_id=before_id, limit=limit + 1
            )
        page = rows[:limit]
        return AuditEntriesOut(
            items=[
                AuditEntryOut(
                    id=row["id"],
                    chain=row["chain"],
                    seq=row["seq"],
                    at=row["occurred_at"],
                    actor=row["actor"],
                    acting_for=row["acting_for"],
                    action=row["action"],
                    entity=row["entity"],
                    entity_id=row["entity_id"],
                    summary=summarise(row["data"] if isinstance(row["data"], dict) else {"data": row["data"]}),
                )
                for row in page
            ],
            limit=limit,
            next_before_id=page[-1]["id"] if len(rows) > limit else None,
        )

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
