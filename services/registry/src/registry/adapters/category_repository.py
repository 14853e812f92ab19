"""All SQL for priority-category claims and their evidence documents."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from uuid import UUID, uuid4

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from registry.adapters.orm import category_claim, child, evidence
from registry.domain.categories import Claim, Decision, ScopedClaim


@dataclass(frozen=True)
class EvidenceRef:
    child_id: UUID
    code: str
    region_code: str
    district_code: str
    evidence_id: UUID
    stored_name: str
    content_type: str


CLAIM_COLUMNS = [category_claim.c[name] for name in Claim.__dataclass_fields__]


async def declare(session: AsyncSession, child_id: UUID, code: str) -> UUID | None:
    """The claim declared again (or first): None when it is already verified (a verified claim stays)."""
    claim_id: UUID | None = (
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
    return claim_id


async def add_evidence(
    session: AsyncSession, claim_id: UUID, stored_name: str, content_type: str, size_bytes: int
) -> None:
    await session.execute(
        insert(evidence).values(
            id=uuid4(), claim_id=claim_id, stored_name=stored_name, content_type=content_type, size_bytes=size_bytes
        )
    )


async def claims_of_child(session: AsyncSession, child_id: UUID) -> list[Claim]:
    rows = await session.execute(
        select(*CLAIM_COLUMNS).where(category_claim.c.child_id == child_id).order_by(category_claim.c.code)
    )
    return [Claim(**r) for r in rows.mappings()]


async def claims_of_children(session: AsyncSession, child_ids: Sequence[UUID]) -> list[Claim]:
    if not child_ids:
        return []
    rows = await session.execute(select(*CLAIM_COLUMNS).where(category_claim.c.child_id.in_(child_ids)))
    return [Claim(**r) for r in rows.mappings()]


async def lock_scoped_claim(session: AsyncSession, claim_id: UUID) -> ScopedClaim | None:
    """The claim with its child's place, locked for a decision."""
    row = (
        (
            await session.execute(
                select(*CLAIM_COLUMNS, child.c.region_code, child.c.district_code)
                .join(child, child.c.id == category_claim.c.child_id)
                .where(category_claim.c.id == claim_id)
                .with_for_update(of=category_claim)
            )
        )
        .mappings()
        .first()
    )
    return ScopedClaim(**row) if row else None


async def scoped_claim(session: AsyncSession, claim_id: UUID) -> ScopedClaim | None:
    row = (
        (
            await session.execute(
                select(*CLAIM_COLUMNS, child.c.region_code, child.c.district_code)
                .join(child, child.c.id == category_claim.c.child_id)
                .where(category_claim.c.id == claim_id)
            )
        )
        .mappings()
        .first()
    )
    return ScopedClaim(**row) if row else None


async def record_decision(session: AsyncSession, claim_id: UUID, decision: Decision) -> None:
    await session.execute(update(category_claim).where(category_claim.c.id == claim_id).values(**asdict(decision)))


async def verified_set(session: AsyncSession, child_id: UUID) -> list[tuple[str, date | None, date | None]]:
    rows = await session.execute(
        select(category_claim.c.code, category_claim.c.valid_from, category_claim.c.valid_until)
        .where(category_claim.c.child_id == child_id, category_claim.c.status == "verified")
        .order_by(category_claim.c.code)
    )
    return [(c, f, u) for c, f, u in rows]


async def newest_evidence(session: AsyncSession, claim_id: UUID) -> EvidenceRef | None:
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
    return EvidenceRef(**row) if row else None
