"""Vouchers: declined, revoked and expired ones go back to their round and are re-offered to the waitlist
(docs/architecture.md, "Service anatomy")."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi_pagination.ext.sqlalchemy import apaginate
from sqlalchemy.ext.asyncio import AsyncSession

from allocation.adapters import (
    award_repository,
    child_repository,
    round_repository,
    voucher_queries,
    voucher_repository,
)
from allocation.adapters.voucher_repository import VoucherRow
from allocation.service_layer.access import Caller
from allocation.service_layer.children import serves_child
from allocation.service_layer.dependencies import Dependencies
from allocation.service_layer.rounds import find_round
from allocation.service_layer.views import ReOffered, Swept, VoucherOut
from qosym_chassis import outbox
from qosym_chassis.errors import Conflict, NotFound
from qosym_chassis.inputs import OffsetPage
from qosym_contracts import allocation as events


async def reoffer(session: AsyncSession, round_id: UUID, today: date) -> int:
    """Offer freed places to the waitlist while the round's direction, budget and cap allow: a free district quota
    place to that district × direction's best-ranked waitlisted application first, else the direction's
    best-ranked one (flow). A re-offered voucher's assignment deadline runs from ``today``. Returns how many places
    were offered."""
    current = await round_repository.get_round(session, round_id)
    assert current is not None
    awarded: list[UUID] = []
    while True:  # one place at a time: each award changes which district quota still has a free place
        for candidate in await award_repository.waitlisted_in_order(session, round_id):
            voucher = await award_repository.try_award_one(session, current, candidate, today)
            if voucher is not None:
                awarded.append(voucher.application_id)
                await outbox.add_event(session, voucher_awarded(voucher))
                break
        else:
            break
    if awarded:  # everyone behind them in their district × direction queue moved up: tell exactly those
        for moved in await award_repository.moved_up(session, round_id, awarded):
            await outbox.add_event(
                session,
                events.ApplicationWaitlistedV1(
                    application_id=moved["application_id"],
                    round_id=round_id,
                    child_id=moved["child_id"],
                    position=moved["position"],
                ),
            )
    return len(awarded)


def voucher_awarded(v: VoucherRow) -> events.VoucherAwardedV1:
    return events.VoucherAwardedV1(
        voucher_id=v.voucher_id,
        application_id=v.application_id,
        child_id=v.child_id,
        region_code=v.region_code,
        district_code=v.district_code,
        round_id=v.round_id,
        direction=v.direction,
        monthly_value_tiyn=v.monthly_value_tiyn,
        months=v.months,
        valid_until=v.valid_until,
        assign_by=v.assign_by,
    )


async def _lock_voucher(session: AsyncSession, voucher_id: UUID) -> VoucherRow:
    voucher = await voucher_repository.lock_voucher(session, voucher_id)
    if voucher is None:
        raise NotFound("no such voucher")
    return voucher


async def decline_voucher(deps: Dependencies, voucher_id: UUID, person: str) -> ReOffered:
    """The holder gives an unassigned voucher up: it returns to the round at once and is re-offered."""
    async with deps.sessions() as session, session.begin():
        voucher = await _lock_voucher(session, voucher_id)
        if not await child_repository.is_guardian(session, voucher.child_id, person):
            raise NotFound("no such voucher")
        if not (voucher.status == "awarded" or (voucher.status == "released" and voucher.reassignable_until)):
            raise Conflict(f"the voucher is {voucher.status}")
        await voucher_repository.set_voucher_status(
            session, voucher_id, "released", reassignable_until=None, at=deps.clock.now()
        )
        await award_repository.free_counters(session, voucher)
        await outbox.add_event(
            session,
            events.VoucherReleasedV1(
                voucher_id=voucher_id, child_id=voucher.child_id, round_id=voucher.round_id, reason="declined"
            ),
        )
        return ReOffered(re_offered=await reoffer(session, voucher.round_id, deps.clock.today()))


async def revoke_voucher(
    deps: Dependencies, voucher_id: UUID, reason: events.VoucherRevokeReason, note: str | None = None
) -> ReOffered:
    """Revoke: the reason code goes on the bus, the administrator's note stays in the voucher's row."""
    async with deps.sessions() as session, session.begin():
        voucher = await _lock_voucher(session, voucher_id)
        if voucher.status in ("revoked", "expired") or (
            voucher.status == "released" and voucher.reassignable_until is None
        ):
            raise Conflict(f"the voucher is already {voucher.status}")
        await voucher_repository.set_voucher_status(
            session, voucher_id, "revoked", reassignable_until=None, at=deps.clock.now()
        )
        await voucher_repository.set_voucher_reason(session, voucher_id, reason, note)
        await award_repository.free_counters(session, voucher)
        await outbox.add_event(
            session,
            events.VoucherRevokedV1(
                voucher_id=voucher_id, child_id=voucher.child_id, round_id=voucher.round_id, reason=reason
            ),
        )
        return ReOffered(re_offered=await reoffer(session, voucher.round_id, deps.clock.today()))


async def expire_vouchers(deps: Dependencies, today: date | None = None) -> Swept:
    """Awarded vouchers never assigned by their deadline expire; released vouchers whose grace ended are returned.

    Both go back to their round and are re-offered to the waitlist. ``today`` is the clock's unless given (an
    administrator may sweep as of a later day).
    """
    awarded_on = deps.clock.today()  # re-offers are awarded now, whatever day the lapse is judged on
    today = today or awarded_on
    done = 0
    async with deps.sessions() as session, session.begin():
        for voucher in await voucher_repository.lapsed_vouchers(session, today):
            reason = "not_assigned_by_deadline" if voucher.status == "awarded" else "release_grace_ended"
            await voucher_repository.set_voucher_status(
                session, voucher.voucher_id, "expired", reassignable_until=None, at=deps.clock.now()
            )
            await award_repository.free_counters(session, voucher)
            await outbox.add_event(
                session,
                events.VoucherExpiredV1(
                    voucher_id=voucher.voucher_id,
                    child_id=voucher.child_id,
                    round_id=voucher.round_id,
                    reason=reason,
                ),
            )
            await reoffer(session, voucher.round_id, awarded_on)
            done += 1
    return Swept(expired=done)


async def vouchers_of_child(deps: Dependencies, caller: Caller, child_id: UUID) -> OffsetPage[VoucherOut]:
    """A child's vouchers: for the guardian, or staff serving the child's region and district (else 404); a
    page of them."""
    async with deps.sessions() as session:
        if not (
            await serves_child(session, child_id, caller)
            or await child_repository.is_guardian(session, child_id, caller.subject)
        ):
            raise NotFound("no such child")
        page: OffsetPage[VoucherOut] = await apaginate(session, voucher_queries.child_vouchers_query(child_id))
    return page


async def round_vouchers(deps: Dependencies, round_id: UUID) -> OffsetPage[VoucherOut]:
    """Every voucher awarded in the round (re-offers included, any status), for reconciliation with payments."""
    async with deps.sessions() as session:
        await find_round(session, round_id)
        page: OffsetPage[VoucherOut] = await apaginate(session, voucher_queries.round_vouchers_query(round_id))
    return page
