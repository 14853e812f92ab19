"""Social categories: declared by a guardian with evidence, verified or rejected by an operator, amended on purpose.

Only verified categories count; every decision publishes the child's complete verified set. The rules are
``registry.domain.categories``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from qosym_chassis import outbox
from qosym_chassis.errors import BadGateway, NotFound
from qosym_contracts.registry import ChildCategoriesVerifiedV1, VerifiedCategory
from registry.adapters import audit, category_repository, region_repository
from registry.adapters import children_repository as children
from registry.adapters.audit import Actor
from registry.adapters.review_queries import pending_claims
from registry.domain import categories as rules
from registry.domain.categories import Claim, QueuedClaim, ScopedClaim
from registry.domain.errors import Refused, RegistrationRefused
from registry.domain.model import OperatorScope
from registry.domain.people import sniff_evidence
from registry.service_layer.access import person_id
from registry.service_layer.children import NO_SUCH_CHILD
from registry.service_layer.dependencies import Dependencies
from registry.service_layer.paging import Page

NO_SUCH_CLAIM = "no such category claim"


@dataclass(frozen=True)
class Declared:
    id: UUID
    code: str
    status: str


@dataclass(frozen=True)
class Decided:
    id: UUID
    code: str
    status: str
    valid_from: date | None
    valid_until: date | None
    decided_by: str
    decided_at: datetime
    reason: str | None


@dataclass(frozen=True)
class Checked:
    """The claim's own state, as the child's categories show it; ``confirmed`` is the state registry's answer."""

    id: UUID
    code: str
    status: str
    valid_from: date | None
    valid_until: date | None
    confirmed: bool
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True)
class EvidenceFile:
    content: bytes
    content_type: str
    claim_id: UUID
    evidence_id: UUID


async def declare(deps: Dependencies, child_id: UUID, actor: Actor, code: str, document: bytes) -> Declared:
    content_type = sniff_evidence(document[:16])
    if content_type is None:
        raise RegistrationRefused("file", "evidence_type", "evidence must be a PDF, JPEG or PNG document")
    async with deps.sessions() as session:
        found = await children.get_child(session, child_id)
        if found is None or person_id(actor) not in await children.active_guardians(session, child_id):
            raise NotFound(NO_SUCH_CHILD)
        region = await region_repository.get_region(session, found.region_code)
    rules.check_declarable(code, region)
    stored_name = await deps.evidence.put(document)
    try:
        async with deps.sessions() as session, session.begin():
            claim_id = await category_repository.declare(session, child_id, code)
            if claim_id is None:
                raise Refused("this category is already verified for the child")
            await category_repository.add_evidence(session, claim_id, stored_name, content_type, len(document))
            await audit.append(session, actor, "category.declared", "child", child_id, {"code": code})
    except BaseException:
        await deps.evidence.delete(stored_name)
        raise
    return Declared(claim_id, code, rules.DECLARED)


async def claims_of(deps: Dependencies, child_id: UUID, guardian_id: UUID, offset: int, limit: int) -> Page[Claim]:
    """A child's claims by code, for one of its guardians (404 for anyone else, as for no child)."""
    async with deps.sessions() as session:
        if guardian_id not in await children.active_guardians(session, child_id):
            raise NotFound(NO_SUCH_CHILD)
        return Page.of(await category_repository.claims_of_child(session, child_id), offset, limit)


async def pending(deps: Dependencies, scope: OperatorScope, offset: int, limit: int) -> Page[QueuedClaim]:
    """Declared categories waiting for a decision (only the operator's region and district when scoped)."""
    async with deps.sessions() as session:
        items, total = await pending_claims(session, scope, offset, limit)
    return Page(items, total, offset, limit)


async def _claim_in_scope(session: AsyncSession, scope: OperatorScope, claim_id: UUID) -> ScopedClaim:
    """The claim with its child's place, locked for a decision; 404 unless the operator's scope covers the child
    (a missing claim answers the same)."""
    row = await category_repository.lock_scoped_claim(session, claim_id)
    if row is None or not scope.covers(row.region_code, row.district_code):
        raise NotFound(NO_SUCH_CLAIM)
    return row


def _decided_by(actor: Actor) -> str:
    return f"{actor.role}:{actor.subject}"


async def decide(
    deps: Dependencies,
    claim_id: UUID,
    actor: Actor,
    scope: OperatorScope,
    *,
    verified: bool,
    valid_from: date | None = None,
    valid_until: date | None = None,
    reason: str | None = None,
) -> Decided:
    async with deps.sessions() as session, session.begin():
        row = await _claim_in_scope(session, scope, claim_id)
        decision = rules.decide(
            claim_id,
            row.status,
            verified=verified,
            decided_by=_decided_by(actor),
            now=deps.clock.now(),
            valid_from=valid_from,
            valid_until=valid_until,
            reason=reason,
        )
        await category_repository.record_decision(session, claim_id, decision)
        action = "category.verified" if verified else "category.rejected"
        await audit.append(
            session,
            actor,
            action,
            "child",
            row.child_id,
            {"code": row.code, "valid_until": valid_until, "reason": reason},
        )
        await _publish_verified_set(session, row.child_id, row.region_code)
    return _decided(claim_id, row.code, decision)


def _decided(claim_id: UUID, code: str, decision: rules.Decision) -> Decided:
    return Decided(
        id=claim_id,
        code=code,
        status=decision.status,
        valid_from=decision.valid_from,
        valid_until=decision.valid_until,
        decided_by=decision.decided_by,
        decided_at=decision.decided_at,
        reason=decision.reason,
    )


async def _publish_verified_set(session: AsyncSession, child_id: UUID, region_code: str) -> None:
    rows = await category_repository.verified_set(session, child_id)
    await outbox.add_event(
        session,
        ChildCategoriesVerifiedV1(
            child_id=child_id,
            region_code=region_code,
            categories=[VerifiedCategory(code=c, valid_from=f, valid_until=u) for c, f, u in rows],
        ),
    )


async def check_with_state_registry(deps: Dependencies, claim_id: UUID, actor: Actor, scope: OperatorScope) -> Checked:
    """Ask the state registry; a confirmation verifies a declared claim (until the date it gives), else it stays
    declared. A claim already decided keeps its decision: the answer reports it with the registry's answer."""
    async with deps.sessions() as session:
        row = await category_repository.scoped_claim(session, claim_id)
        if row is None or not scope.covers(row.region_code, row.district_code):
            raise NotFound(NO_SUCH_CLAIM)
        ciphertext = await children.iin_ciphertext(session, row.child_id)
    if ciphertext is None:
        raise NotFound(NO_SUCH_CLAIM)
    iin = deps.protector.decrypt(ciphertext, row_id=str(row.child_id))
    try:
        result = await deps.state_registry.check(iin=iin, category=row.code)
    except httpx.HTTPError as exc:
        raise BadGateway("the state registry did not answer; try again or verify from the evidence") from exc
    if not result.confirmed or row.status != rules.DECLARED:
        return Checked(row.id, row.code, row.status, row.valid_from, row.valid_until, result.confirmed)
    decided = await decide(
        deps,
        claim_id,
        actor,
        scope,
        verified=True,
        valid_until=result.valid_until,
        reason="confirmed by the state registry",
    )
    return Checked(
        decided.id,
        decided.code,
        decided.status,
        decided.valid_from,
        decided.valid_until,
        True,
        decided.decided_by,
        decided.decided_at,
        decided.reason,
    )


async def amend(
    deps: Dependencies,
    claim_id: UUID,
    actor: Actor,
    scope: OperatorScope,
    *,
    valid_from: date | None,
    valid_until: date | None,
    reason: str,
) -> Decided:
    """Change a verified claim's validity on purpose: both dates are given explicitly (a null start keeps the current
    one, a null end means none), the previous decision is kept on the audit trail, the verified set is published."""
    async with deps.sessions() as session, session.begin():
        row = await _claim_in_scope(session, scope, claim_id)
        decision = rules.amend(
            row.status,
            row.valid_from,
            decided_by=_decided_by(actor),
            now=deps.clock.now(),
            valid_from=valid_from,
            valid_until=valid_until,
            reason=reason,
        )
        await category_repository.record_decision(session, claim_id, decision)
        previous = {
            "valid_from": row.valid_from,
            "valid_until": row.valid_until,
            "decided_by": row.decided_by,
            "decided_at": row.decided_at,
            "reason": row.reason,
        }
        await audit.append(
            session,
            actor,
            "category.amended",
            "child",
            row.child_id,
            {
                "code": row.code,
                "claim_id": str(claim_id),
                "previous": previous,
                "valid_from": decision.valid_from,
                "valid_until": valid_until,
                "reason": reason,
            },
        )
        await _publish_verified_set(session, row.child_id, row.region_code)
    return _decided(claim_id, row.code, decision)


async def open_evidence(deps: Dependencies, claim_id: UUID, actor: Actor, scope: OperatorScope | None) -> EvidenceFile:
    """The newest document behind a claim, for an operator whose scope covers the child (``scope``) or one of the
    child's guardians (``scope`` None); anyone else is answered as for a missing claim. Every opening is audited."""
    async with deps.sessions() as session:
        row = await category_repository.newest_evidence(session, claim_id)
        if row is None:
            raise NotFound(NO_SUCH_CLAIM)
        if scope is None:
            allowed = person_id(actor) in await children.active_guardians(session, row.child_id)
        else:
            allowed = scope.limited and scope.covers(row.region_code, row.district_code)
        if not allowed:
            raise NotFound(NO_SUCH_CLAIM)
    content = await deps.evidence.get(row.stored_name)
    async with deps.sessions() as session, session.begin():
        await audit.append(
            session,
            actor,
            "evidence.opened",
            "child",
            row.child_id,
            {"claim_id": str(claim_id), "evidence_id": str(row.evidence_id), "code": row.code},
        )
    return EvidenceFile(content, row.content_type, claim_id, row.evidence_id)
