"""A round's lifecycle: create, read, open, close (docs/architecture.md, "Service anatomy").

Each use case is one transaction with its outbox events; the state machine is :mod:`allocation.domain.rounds`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from fastapi_pagination.ext.sqlalchemy import apaginate
from sqlalchemy.ext.asyncio import AsyncSession

from allocation.adapters import region_repository, round_queries, round_repository
from allocation.adapters.round_repository import RoundRow
from allocation.domain import lottery
from allocation.domain.rounds import (
    IllegalTransition,
    RoundDraft,
    RoundState,
    check_against_region,
    next_state,
    policy_of,
)
from allocation.service_layer.dependencies import Dependencies
from allocation.service_layer.views import RoundOut
from qosym_chassis import outbox
from qosym_chassis.errors import Conflict, FieldError, NotFound
from qosym_chassis.inputs import OffsetPage
from qosym_contracts import allocation as events


async def create_round(deps: Dependencies, draft: RoundDraft, actor: str) -> RoundOut:
    """Create a round (draft): the lottery seed's sha256 is published at once, the seed stays secret until close."""
    async with deps.sessions() as session, session.begin():
        region = await region_repository.get_region(session, draft.region_code)
        if region is None:
            raise FieldError("region_code", "no such region")
        problem = check_against_region(draft, region.config)
        if problem:
            raise FieldError(*problem)
        round_id = uuid4()
        seed = lottery.new_seed()
        await round_repository.insert_round(
            session, round_id, draft, policy_of(region.config), seed, lottery.seed_sha256(seed), actor
        )
        created = await round_repository.get_round(session, round_id)
    assert created is not None
    return RoundOut.of(created)


async def find_round(session: AsyncSession, round_id: UUID, *, lock: bool = False) -> RoundRow:
    found = await round_repository.get_round(session, round_id, lock=lock)
    if found is None:
        raise NotFound("no such round")
    return found


async def get_round(deps: Dependencies, round_id: UUID) -> RoundOut:
    async with deps.sessions() as session:
        return RoundOut.of(await find_round(session, round_id))


async def list_rounds(deps: Dependencies, region_code: str | None) -> OffsetPage[RoundOut]:
    """Every round, newest first, optionally of one region; one page of them."""
    async with deps.sessions() as session:

        async def rounds_of(ids: Sequence[UUID]) -> list[RoundOut]:
            return [RoundOut.of(await find_round(session, round_id)) for round_id in ids]

        page: OffsetPage[RoundOut] = await apaginate(
            session, round_queries.round_ids_query(region_code), unwrap_mode="unwrap", transformer=rounds_of
        )
    return page


async def move(session: AsyncSession, current: RoundRow, action: str, at: datetime) -> RoundState:
    """Move the locked round one step, stamped ``at`` (409 when the state machine or a concurrent change forbids it)."""
    try:
        target = next_state(current.state, action)
    except IllegalTransition as exc:
        raise Conflict(str(exc)) from None
    if not await round_repository.move_state(session, current.round_id, current.state, target, at):
        raise Conflict(f"the round changed meanwhile; cannot {action} it")
    return target


async def open_round(deps: Dependencies, round_id: UUID) -> RoundOut:
    async with deps.sessions() as session, session.begin():
        current = await find_round(session, round_id, lock=True)
        await move(session, current, "open", deps.clock.now())
        await outbox.add_event(
            session,
            events.RoundOpenedV1(
                round_id=round_id,
                region_code=current.region_code,
                application_opens_at=current.application_opens_at,
                application_closes_at=current.application_closes_at,
                reference_date=current.reference_date,
                seed_sha256=current.seed_sha256,
                budget_tiyn=current.budget_tiyn,
            ),
        )
    return await get_round(deps, round_id)


@dataclass(frozen=True)
class EarlyClose:
    """Why an administrator closes a round before its announced window end (a code; the note stays here)."""

    reason: events.EarlyCloseReason
    note: str | None = None


async def close_round(deps: Dependencies, round_id: UUID, actor: str, early: EarlyClose | None = None) -> RoundOut:
    """Close applications. Before the announced end only with an early-close reason, recorded with the actor."""
    async with deps.sessions() as session, session.begin():
        current = await find_round(session, round_id, lock=True)
        await move(session, current, "close", deps.clock.now())
        before_end = deps.clock.now() < current.application_closes_at
        if before_end and early is None:
            raise FieldError(
                "reason",
                f"the window ends at {current.application_closes_at.isoformat()}: closing earlier needs a reason "
                f"({', '.join(events.EARLY_CLOSE_REASONS)})",
                code="early_close_needs_reason",
            )
        reason = early.reason if early is not None and before_end else None
        await round_repository.record_close(
            session, round_id, actor, reason, early.note if early is not None and before_end else None
        )
        await outbox.add_event(
            session,
            events.RoundClosedV1(
                round_id=round_id,
                region_code=current.region_code,
                seed_hex=current.seed.hex(),
                applications=await round_repository.count_applications(session, round_id),
                early_close_reason=reason,
            ),
        )
    return await get_round(deps, round_id)
