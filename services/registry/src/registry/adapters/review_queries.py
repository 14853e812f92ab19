"""Read-side SQL for the review queues (declared claims, flagged records), scoped to the operator's region."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from registry.adapters.category_repository import CLAIM_COLUMNS
from registry.adapters.orm import category_claim, child, person
from registry.adapters.scope import scope_clause
from registry.domain.categories import QueuedClaim
from registry.domain.model import Flagged, OperatorScope


@dataclass(frozen=True)
class FlaggedRow:
    """A flagged record's flags and place (a person has none)."""

    flags: list[str]
    region_code: str | None
    district_code: str | None


async def pending_claims(
    session: AsyncSession, scope: OperatorScope, offset: int, limit: int
) -> tuple[list[QueuedClaim], int]:
    """Declared claims waiting for a decision, oldest first, and how many there are."""
    where = [category_claim.c.status == "declared"]
    if scope.limited:
        where.append(scope_clause(scope, child.c.region_code, child.c.district_code))
    joined = category_claim.join(child, child.c.id == category_claim.c.child_id)
    total = (await session.execute(select(func.count()).select_from(joined).where(*where))).scalar_one()
    rows = await session.execute(
        select(*CLAIM_COLUMNS, child.c.region_code, child.c.district_code, child.c.iin_last4)
        .select_from(joined)
        .where(*where)
        .order_by(category_claim.c.declared_at, category_claim.c.id)
        .offset(offset)
        .limit(limit)
    )
    return [
        QueuedClaim(**{k: v for k, v in r.items() if k != "iin_last4"}, child_iin_masked="********" + r["iin_last4"])
        for r in rows.mappings()
    ], total


async def flagged(session: AsyncSession, scope: OperatorScope, offset: int, limit: int) -> tuple[list[Flagged], int]:
    """Children (in the scope) and, for an unscoped administrator, people whose declared data disagrees with
    their IIN: children first, then people."""
    children_q = select(child.c.id, child.c.flags, child.c.region_code, child.c.created_at.label("at")).where(
        child.c.flags != []
    )
    if scope.limited:
        children_q = children_q.where(scope_clause(scope, child.c.region_code, child.c.district_code))
    children_count = (await session.execute(select(func.count()).select_from(children_q.subquery()))).scalar_one()
    people_count = 0
    if not scope.limited:
        people_count = (
            await session.execute(select(func.count()).select_from(person).where(person.c.flags != []))
        ).scalar_one()
    items: list[Flagged] = []
    if offset < children_count:
        rows = await session.execute(children_q.order_by(child.c.created_at, child.c.id).offset(offset).limit(limit))
        items += [Flagged("child", r.id, list(r.flags), r.region_code) for r in rows]
    remaining = limit - len(items)
    if not scope.limited and remaining > 0:
        people = await session.execute(
            select(person.c.id, person.c.flags)
            .where(person.c.flags != [])
            .order_by(person.c.created_at, person.c.id)
            .offset(max(offset - children_count, 0))
            .limit(remaining)
        )
        items += [Flagged("person", r.id, list(r.flags), None) for r in people]
    return items, children_count + people_count


async def flagged_row(session: AsyncSession, entity: str, row_id: UUID) -> FlaggedRow | None:
    if entity == "child":
        found = (
            await session.execute(
                select(child.c.flags, child.c.region_code, child.c.district_code).where(child.c.id == row_id)
            )
        ).first()
        return FlaggedRow(list(found.flags), found.region_code, found.district_code) if found else None
    row = (await session.execute(select(person.c.flags).where(person.c.id == row_id))).first()
    return FlaggedRow(list(row.flags), None, None) if row else None


async def clear_flags(session: AsyncSession, entity: str, row_id: UUID) -> None:
    table = child if entity == "child" else person
    await session.execute(update(table).where(table.c.id == row_id).values(flags=[]))
