"""Social categories: declared by a guardian with evidence, verified or rejected by an operator.

Only verified categories count; every decision publishes the child's complete verified set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from qosym_chassis import outbox
from qosym_chassis.protection import IinProtector
from qosym_contracts.registry import ChildCategoriesVerifiedV1, VerifiedCategory
from registry.adapters import audit, repository
from registry.adapters.audit import Actor
from registry.adapters.evidence import EvidenceStore
from registry.adapters.orm import category_claim, child, evidence
from registry.adapters.state_registry import StateRegistry
from registry.domain.model import OperatorScope, RegistrationRefused
from registry.domain.people import sniff_evidence
from registry.service_layer.access import scope_clause
from registry.service_layer.handlers import NotAllowed, Refused, Sessions


async def declare(
    sessions: Sessions, store: EvidenceStore, child_id: UUID, actor: Actor, code: str, document: bytes
) -> dict[str, Any]:
    content_type = sniff_evidence(document[:16])
    if content_type is None:
        raise RegistrationRefused("file", "evidence_type", "evidence must be a PDF, JPEG or PNG document")
    async with sessions() as session:
        found = await repository.get_child(session, child_id)
        if found is None or UUID(actor.subject) not in await repository.active_guardians(session, child_id):
            raise NotAllowed()
        region = await repository.get_region(session, found.region_code)
    if region is None or code not in region.category_codes:
        raise RegistrationRefused("code", "unknown_category", "not a priority category of the child's region")
    stored_name = await store.put(document)
    try:
        async with sessions() as session, session.begin():
            claim_id = (
                await session.execute(
                    pg_insert(category_claim)
                    .values(id=uuid4(), child_id=child_id, code=code, status="declared")
                    .on_conflict_do_update(
                        constraint="uq_category_claim_child_code",
                        set_={"status": "declared", "decided_by": None, "decided_at": None, "reason": None},
                        where=category_claim.c.status != "verified",
                    )
                    .returning(category_claim.c.id)
                )
            ).scalar()
            if claim_id is None:
                raise Refused("this category is already verified for the child")
            await session.execute(
                insert(evidence).values(
                    id=uuid4(),
                    claim_id=claim_id,
                    stored_name=stored_name,
                    content_type=content_type,
                    size_bytes=len(document),
                )
            )
            await audit.append(session, actor, "category.declared", "child", child_id, {"code": code})
    except BaseException:
        await store.delete(stored_name)
        raise
    return {"id": claim_id, "code": code, "status": "declared"}


async def claims_of(sessions: Sessions, child_id: UUID, guardian_id: UUID) -> list[dict[str, Any]]:
    async with sessions() as session:
        if guardian_id not in await repository.active_guardians(session, child_id):
            raise NotAllowed()
        rows = await session.execute(
            select(category_claim).where(category_claim.c.child_id == child_id).order_by(category_claim.c.code)
        )
        return [dict(r) for r in rows.mappings()]


async def pending(sessions: Sessions, scope: OperatorScope) -> list[dict[str, Any]]:
    async with sessions() as session:
        query = (
            select(category_claim, child.c.region_code, child.c.district_code)
            .join(child, child.c.id == category_claim.c.child_id)
            .where(category_claim.c.status == "declared")
            .order_by(category_claim.c.declared_at)
        )
        if scope.limited:
            query = query.where(scope_clause(scope, child.c.region_code, child.c.district_code))
        return [dict(r) for r in (await session.execute(query)).mappings()]


async def decide(
    sessions: Sessions,
    claim_id: UUID,
    actor: Actor,
    scope: OperatorScope,
    *,
    verified: bool,
    valid_from: date | None = None,
    valid_until: date | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        row = await _claim_in_scope(session, scope, claim_id)
        if row["status"] != "declared":
            raise Refused(
                f"this claim is already {row['status']}: a second decision is refused; change a verified claim's "
                f"validity with POST /v1/categories/{claim_id}/amend"
            )
        start = valid_from or now.date()
        if verified and valid_until is not None and valid_until < start:
            raise RegistrationRefused("valid_until", "before_valid_from", "valid_until is before valid_from")
        values: dict[str, Any] = {
            "status": "verified" if verified else "rejected",
            "valid_from": start if verified else None,
            "valid_until": valid_until if verified else None,
            "decided_by": f"{actor.role}:{actor.subject}",
            "decided_at": now,
            "reason": reason,
        }
        await session.execute(update(category_claim).where(category_claim.c.id == claim_id).values(**values))
        action = "category.verified" if verified else "category.rejected"
        await audit.append(
            session,
            actor,
            action,
            "child",
            row["child_id"],
            {"code": row["code"], "valid_until": valid_until, "reason": reason},
        )
        await _publish_verified_set(session, row["child_id"], row["region_code"])
    return {"id": claim_id, "code": row["code"], **values}


async def _claim_in_scope(session: AsyncSession, scope: OperatorScope, claim_id: UUID) -> Any:
    """The claim with its child's region and district, locked for a decision; NotAllowed unless the operator's scope
    covers the child (a missing claim answers the same)."""
    row = (
        (
            await session.execute(
                select(category_claim, child.c.region_code, child.c.district_code)
                .join(child, child.c.id == category_claim.c.child_id)
                .where(category_claim.c.id == claim_id)
                .with_for_update(of=category_claim)
            )
        )
        .mappings()
        .first()
    )
    if row is None or not scope.covers(row["region_code"], row["district_code"]):
        raise NotAllowed()
    return row


async def _publish_verified_set(session: AsyncSession, child_id: UUID, region_code: str) -> None:
    rows = await session.execute(
        select(category_claim.c.code, category_claim.c.valid_from, category_claim.c.valid_until)
        .where(category_claim.c.child_id == child_id, category_claim.c.status == "verified")
        .order_by(category_claim.c.code)
    )
    await outbox.add_event(
        session,
        ChildCategoriesVerifiedV1(
            child_id=child_id,
            region_code=region_code,
            categories=[VerifiedCategory(code=c, valid_from=f, valid_until=u) for c, f, u in rows],
        ),
    )


async def check_with_state_registry(
    sessions: Sessions,
    protector: IinProtector,
    state_registry: StateRegistry,
    claim_id: UUID,
    actor: Actor,
    scope: OperatorScope,
) -> dict[str, Any]:
    """Ask the state registry; a confirmation verifies a declared claim (until the date it gives), else it stays
    declared. A claim already decided keeps its decision: the answer reports it with the registry's answer."""
    async with sessions() as session:
        row = (
            (
                await session.execute(
                    select(
                        category_claim.c.code,
                        category_claim.c.status,
                        category_claim.c.valid_from,
                        category_claim.c.valid_until,
                        child.c.id,
                        child.c.iin_ciphertext,
                        child.c.region_code,
                        child.c.district_code,
                    )
                    .join(child, child.c.id == category_claim.c.child_id)
                    .where(category_claim.c.id == claim_id)
                )
            )
            .mappings()
            .first()
        )
    if row is None or not scope.covers(row["region_code"], row["district_code"]):
        raise NotAllowed()
    iin = protector.decrypt(row["iin_ciphertext"], row_id=str(row["id"]))
    result = await state_registry.check(iin=iin, category=row["code"])
    if not result.confirmed or row["status"] != "declared":
        # the claim's own state, as the child's categories show it; `confirmed` is the state registry's answer
        return {
            "id": claim_id,
            "code": row["code"],
            "status": row["status"],
            "valid_from": row["valid_from"],
            "valid_until": row["valid_until"],
            "confirmed": result.confirmed,
        }
    decided = await decide(
        sessions,
        claim_id,
        actor,
        scope,
        verified=True,
        valid_until=result.valid_until,
        reason="confirmed by the state registry",
    )
    return {**decided, "confirmed": True}


async def amend(
    sessions: Sessions,
    claim_id: UUID,
    actor: Actor,
    scope: OperatorScope,
    *,
    valid_from: date | None,
    valid_until: date | None,
    reason: str,
) -> dict[str, Any]:
    """Change a verified claim's validity on purpose: both dates are given explicitly (a null start keeps the current
    one, a null end means none), the previous decision is kept on the audit trail, the verified set is published."""
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        row = await _claim_in_scope(session, scope, claim_id)
        if row["status"] != "verified":
            raise Refused(f"only a verified claim is amended; this one is {row['status']}")
        start = valid_from or row["valid_from"] or now.date()
        if valid_until is not None and valid_until < start:
            raise RegistrationRefused("valid_until", "before_valid_from", "valid_until is before valid_from")
        values: dict[str, Any] = {
            "valid_from": start,
            "valid_until": valid_until,
            "decided_by": f"{actor.role}:{actor.subject}",
            "decided_at": now,
            "reason": reason,
        }
        await session.execute(update(category_claim).where(category_claim.c.id == claim_id).values(**values))
        previous = {k: row[k] for k in ("valid_from", "valid_until", "decided_by", "decided_at", "reason")}
        await audit.append(
            session,
            actor,
            "category.amended",
            "child",
            row["child_id"],
            {
                "code": row["code"],
                "claim_id": str(claim_id),
                "previous": previous,
                "valid_from": start,
                "valid_until": valid_until,
                "reason": reason,
            },
        )
        await _publish_verified_set(session, row["child_id"], row["region_code"])
    return {"id": claim_id, "code": row["code"], "status": "verified", **values}


@dataclass(frozen=True)
class EvidenceFile:
    content: bytes
    content_type: str
    claim_id: UUID
    evidence_id: UUID


async def open_evidence(
    sessions: Sessions, store: EvidenceStore, claim_id: UUID, actor: Actor, scope: OperatorScope | None
) -> EvidenceFile:
    """The newest document behind a claim, for an operator whose scope covers the child (``scope``) or one of the
    child's guardians (``scope`` None); anyone else is answered as for a missing claim. Every opening is audited."""
    async with sessions() as session:
        row = (
            (
                await session.execute(
                    select(
                        category_claim.c.child_id,
                        category_claim.c.code,
                        child.c.region_code,
                        child.c.district_code,
                        evidence.c.id.label("evidence_id"),
                        evidence.c.stored_name,
                        evidence.c.content_type,
                    )
                    .join(child, child.c.id == category_claim.c.child_id)
                    .join(evidence, evidence.c.claim_id == category_claim.c.id)
                    .where(category_claim.c.id == claim_id)
                    .order_by(evidence.c.uploaded_at.desc(), evidence.c.id)
                    .limit(1)
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            raise NotAllowed()
        if scope is None:
            allowed = _person_id(actor) in await repository.active_guardians(session, row["child_id"])
        else:
            allowed = scope.limited and scope.covers(row["region_code"], row["district_code"])
        if not allowed:
            raise NotAllowed()
    content = await store.get(row["stored_name"])
    async with sessions() as session, session.begin():
        await audit.append(
            session,
            actor,
            "evidence.opened",
            "child",
            row["child_id"],
            {"claim_id": str(claim_id), "evidence_id": str(row["evidence_id"]), "code": row["code"]},
        )
    return EvidenceFile(content, row["content_type"], claim_id, row["evidence_id"])


def _person_id(actor: Actor) -> UUID | None:
    try:
        return UUID(actor.subject)
    except ValueError:
        return None
