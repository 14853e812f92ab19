"""Round, application and voucher use cases: each one transaction, with its outbox events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from allocation.adapters import allocation_sql, repository, rounds_repo
from allocation.adapters.rounds_repo import RoundRow
from allocation.domain import lottery, ranking
from allocation.domain.rounds import (
    IllegalTransition,
    RoundDraft,
    RoundState,
    accepts_applications,
    age_on,
    check_against_region,
    check_what_if,
    next_state,
    policy_of,
)
from allocation.service_layer.access import Caller
from qosym_chassis import outbox
from qosym_chassis.errors import Conflict, FieldError, NotFound
from qosym_contracts import allocation as events
from qosym_contracts.catalog import EnrolmentEndedV1, EnrolmentRequestedV1
from qosym_contracts.registry import ChildCategoriesVerifiedV1, GuardianshipEndedV1, GuardianshipEstablishedV1

Sessions = async_sessionmaker[AsyncSession]


def now_utc() -> datetime:
    return datetime.now(UTC)


async def create_round(sessions: Sessions, draft: RoundDraft, actor: str) -> RoundRow:
    async with sessions() as session, session.begin():
        region = await repository.get_region(session, draft.region_code)
        if region is None:
            raise FieldError("region_code", "no such region")
        problem = check_against_region(draft, region.config)
        if problem:
            raise FieldError(*problem)
        round_id = uuid4()
        seed = lottery.new_seed()
        await rounds_repo.insert_round(
            session, round_id, draft, policy_of(region.config), seed, lottery.seed_sha256(seed), actor
        )
        created = await rounds_repo.get_round(session, round_id)
    assert created is not None
    return created


async def get_round(sessions: Sessions, round_id: UUID) -> RoundRow:
    async with sessions() as session:
        found = await rounds_repo.get_round(session, round_id)
    if found is None:
        raise NotFound("no such round")
    return found


async def list_rounds(sessions: Sessions, region_code: str | None) -> list[RoundRow]:
    """Every round, newest first, optionally of one region."""
    async with sessions() as session:
        rows = [await rounds_repo.get_round(session, r) for r in await rounds_repo.list_round_ids(session, region_code)]
    return [r for r in rows if r is not None]


async def _locked(session: AsyncSession, round_id: UUID) -> RoundRow:
    found = await rounds_repo.get_round(session, round_id, lock=True)
    if found is None:
        raise NotFound("no such round")
    return found


async def _move(session: AsyncSession, current: RoundRow, action: str) -> RoundState:
    try:
        target = next_state(current.state, action)
    except IllegalTransition as exc:
        raise Conflict(str(exc)) from None
    if not await rounds_repo.move_state(session, current.round_id, current.state, target):
        raise Conflict(f"the round changed meanwhile; cannot {action} it")
    return target


async def open_round(sessions: Sessions, round_id: UUID) -> RoundRow:
    async with sessions() as session, session.begin():
        current = await _locked(session, round_id)
        await _move(session, current, "open")
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
    return await get_round(sessions, round_id)


@dataclass(frozen=True)
class EarlyClose:
    """Why an administrator closes a round before its announced window end (a code; the note stays here)."""

    reason: events.EarlyCloseReason
    note: str | None = None


async def close_round(
    sessions: Sessions, round_id: UUID, actor: str, early: EarlyClose | None = None, now: datetime | None = None
) -> RoundRow:
    """Close applications. Before the announced end only with an early-close reason, recorded with the actor."""
    async with sessions() as session, session.begin():
        current = await _locked(session, round_id)
        await _move(session, current, "close")
        before_end = (now or now_utc()) < current.application_closes_at
        if before_end and early is None:
            raise FieldError(
                "reason",
                f"the window ends at {current.application_closes_at.isoformat()}: closing earlier needs a reason "
                f"({', '.join(events.EARLY_CLOSE_REASONS)})",
                code="early_close_needs_reason",
            )
        reason = early.reason if early is not None and before_end else None
        await rounds_repo.record_close(
            session, round_id, actor, reason, early.note if early is not None and before_end else None
        )
        await outbox.add_event(
            session,
            events.RoundClosedV1(
                round_id=round_id,
                region_code=current.region_code,
                seed_hex=current.seed.hex(),
                applications=await rounds_repo.count_applications(session, round_id),
                early_close_reason=reason,
            ),
        )
    return await get_round(sessions, round_id)


async def allocate_round(sessions: Sessions, round_id: UUID) -> dict[str, Any]:
    """Rank and award once. A second (or concurrent) call waits for the row lock and returns the same result."""
    async with sessions() as session, session.begin():
        current = await _locked(session, round_id)
        if current.state == RoundState.ALLOCATED and current.result is not None:
            return current.result
        await _move(session, current, "allocate")
        result = await allocation_sql.allocate(session, current)
        await rounds_repo.save_result(session, round_id, result)
    return result


# --- applications -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationView:
    row: dict[str, Any]
    position: int | None
    voucher: dict[str, Any] | None


async def apply(sessions: Sessions, round_id: UUID, child_id: UUID, direction: str, person: str) -> dict[str, Any]:
    async with sessions() as session, session.begin():
        current = await rounds_repo.get_round(session, round_id, share=True)
        if current is None:
            raise NotFound("no such round")
        child = await repository.get_child(session, child_id)
        if child is None or not await rounds_repo.is_guardian(session, child_id, person):
            raise NotFound("no such child")  # never reveal other people's children
        refusal = accepts_applications(
            current.state, current.application_opens_at, current.application_closes_at, now_utc()
        )
        if refusal:
            raise Conflict(refusal)
        if child.region_code != current.region_code:
            raise FieldError("child_id", f"the child lives in {child.region_code}, not in {current.region_code}")
        directions = {d for cells in current.quotas.values() for d, q in cells.items() if q > 0}
        if direction not in directions:
            raise FieldError("direction", f"this round has no vouchers for {direction!r}")
        age = age_on(child.birth_date, current.reference_date)
        if not current.policy.age_min <= age <= current.policy.age_max:
            raise FieldError(
                "child_id",
                f"the child is {age} on {current.reference_date}; the round is for ages "
                f"{current.policy.age_min}–{current.policy.age_max}",
                code="age_band",
            )
        application_id = uuid4()
        try:
            async with session.begin_nested():
                await rounds_repo.insert_application(
                    session,
                    application_id,
                    uuid4(),
                    round_id,
                    child_id,
                    UUID(person),
                    child.district_code,
                    direction,
                )
        except IntegrityError:
            raise Conflict("this child already has an application in this round") from None
        await outbox.add_event(
            session,
            events.ApplicationSubmittedV1(
                application_id=application_id,
                round_id=round_id,
                child_id=child_id,
                region_code=current.region_code,
                district_code=child.district_code,
                direction=direction,
            ),
        )
        row = await rounds_repo.get_application(session, application_id)
    assert row is not None
    return row


async def _visible_application(
    session: AsyncSession, application_id: UUID, person: str, staff: Caller | None
) -> dict[str, Any]:
    """The application if ``person`` is the child's guardian or ``staff`` serves its round's region and its
    district (see :mod:`allocation.service_layer.access`); otherwise 404, as if it did not exist."""
    row = await rounds_repo.get_application(session, application_id)
    if row is None:
        raise NotFound("no such application")
    if staff is not None and staff.reader:
        owner = await rounds_repo.get_round(session, row["round_id"])
        if owner is not None and staff.serves(owner.region_code, row["district_code"]):
            return row
    if not await rounds_repo.is_guardian(session, row["child_id"], person):
        raise NotFound("no such application")
    return row


async def view_application(
    sessions: Sessions, application_id: UUID, person: str, staff: Caller | None
) -> ApplicationView:
    async with sessions() as session:
        row = await _visible_application(session, application_id, person, staff)
        position = None
        if row["status"] == "waitlisted":
            position = await allocation_sql.current_waitlist_position(
                session, row["round_id"], row["district_code"], row["direction"], row["rank"]
            )
        voucher = await rounds_repo.voucher_of_application(session, application_id)
    return ApplicationView(row, position, voucher)


async def applications_of(sessions: Sessions, person: str) -> list[ApplicationView]:
    try:
        person_id = UUID(person)
    except ValueError:
        return []
    async with sessions() as session:
        rows = await rounds_repo.applications_of_guardian(session, person_id)
        views = []
        for row in rows:
            position = None
            if row["status"] == "waitlisted":
                position = await allocation_sql.current_waitlist_position(
                    session, row["round_id"], row["district_code"], row["direction"], row["rank"]
                )
            views.append(
                ApplicationView(row, position, await rounds_repo.voucher_of_application(session, row["application_id"]))
            )
    return views


async def withdraw(sessions: Sessions, application_id: UUID, person: str) -> dict[str, Any]:
    async with sessions() as session, session.begin():
        row = await _visible_application(session, application_id, person, staff=None)
        current = await rounds_repo.get_round(session, row["round_id"], lock=True)  # serialises with close
        assert current is not None
        if current.state != RoundState.OPEN:
            raise Conflict(f"the round is {current.state.value}; applications can only be withdrawn while it is open")
        if not await rounds_repo.withdraw(session, application_id):
            raise Conflict(f"the application is {row['status']}")
        await outbox.add_event(
            session,
            events.ApplicationWithdrawnV1(
                application_id=application_id, round_id=row["round_id"], child_id=row["child_id"]
            ),
        )
        updated = await rounds_repo.get_application(session, application_id)
    assert updated is not None
    return updated


# --- explanation and publication --------------------------------------------------------------------


async def explanation(sessions: Sessions, application_id: UUID, person: str, staff: Caller | None) -> dict[str, Any]:
    async with sessions() as session:
        row = await _visible_application(session, application_id, person, staff)
        current = await rounds_repo.get_round(session, row["round_id"])
        assert current is not None
        categories = await rounds_repo.categories_of(session, row["child_id"])
        breakdown = ranking.score_breakdown(categories, current.policy.weights, current.reference_date)
        uncounted = ranking.not_counted(categories, current.policy.weights, current.reference_date)
        cut = await rounds_repo.cutoff(session, row["round_id"], row["district_code"], row["direction"])
        position = None
        if row["status"] == "waitlisted":
            position = await allocation_sql.current_waitlist_position(
                session, row["round_id"], row["district_code"], row["direction"], row["rank"]
            )
    quota = current.quotas.get(row["district_code"], {}).get(row["direction"], 0)
    cell = f"{row['district_code']} × {row['direction']}"
    if row["rank"] is None:
        why = (
            "The application was withdrawn."
            if row["status"] == "withdrawn"
            else f"The round is {current.state.value}; applications are ranked when it is allocated."
        )
    elif row["allocated_outcome"] == "awarded":
        how = "within its quota" if row["allocated_via"] == "quota" else "from quota unused in other districts"
        why = f"Ranked {row['rank']} of the round with score {row['score']}; a voucher was awarded in {cell} {how}."
    else:
        why = (
            f"Ranked {row['rank']} with score {row['score']}; {_vouchers(quota, cell)} (and the round's budget) "
            f"went to applications ranked higher"
            + (f" (the last one awarded had score {cut['score']}, rank {cut['rank']})" if cut else "")
            + f". Waitlist position {position if position is not None else row['waitlist_position']}."
        )
        if row["status"] == "awarded":
            why += " A voucher was later offered from the waitlist."
    if uncounted:
        why += " Not counted: " + "; ".join(f"{code} ({NOT_COUNTED[reason]})" for code, reason in uncounted) + "."
    why += (
        f" Only categories an operator verified and valid on {current.reference_date.isoformat()} count; "
        "one declared but not yet verified does not."
    )
    return {
        "application_id": row["application_id"],
        "status": row["status"],
        "score": sum(w for _, w in breakdown) if row["score"] is None else row["score"],
        "score_breakdown": [{"category": code, "weight": weight} for code, weight in breakdown],
        "not_counted": [{"category": code, "reason": reason} for code, reason in uncounted],
        "reference_date": current.reference_date,
        "lottery_number": row["lottery"],
        "rank": row["rank"],
        "district_code": row["district_code"],
        "direction": row["direction"],
        "quota": quota,
        "cutoff": cut,
        "outcome": row["allocated_outcome"],
        "via": row["allocated_via"],
        "waitlist_position": position,
        "why": why,
    }


NOT_COUNTED = {
    "expired": "it ended before the reference date",
    "not_yet_valid": "it starts after the reference date",
    "not_weighted": "the round gives it no weight",
}


def _vouchers(n: int, cell: str) -> str:
    """The quota of a district × direction, in words (the 1 voucher, the 3 vouchers, none of its own)."""
    if n == 0:
        return f"the vouchers {cell} could receive (it has no quota of its own)"
    return f"the only voucher of {cell}" if n == 1 else f"the {n} vouchers of {cell}"


async def published(sessions: Sessions, round_id: UUID) -> tuple[RoundRow, list[dict[str, Any]]]:
    async with sessions() as session:
        current = await rounds_repo.get_round(session, round_id)
        if current is None:
            raise NotFound("no such round")
        if current.state != RoundState.ALLOCATED:
            raise Conflict("the ranked list is published once the round is allocated")
        return current, await rounds_repo.published_list(session, round_id)


# --- what-if ----------------------------------------------------------------------------------------


async def simulate(
    sessions: Sessions, round_id: UUID, weights: dict[str, int] | None, quotas: dict[str, dict[str, int]] | None
) -> dict[str, Any]:
    """Rank and award again with changed weights and/or quotas, in memory; nothing is stored."""
    async with sessions() as session:
        current = await rounds_repo.get_round(session, round_id)
        if current is None:
            raise NotFound("no such round")
        region = await repository.get_region(session, current.region_code)
        assert region is not None  # a round is created only in a known region, and regions are never deleted
        problem = check_what_if(weights, quotas, current.policy, region.config)
        if problem:
            raise FieldError(*problem)
        if current.state != RoundState.ALLOCATED:
            raise Conflict("simulate compares against an allocated round")
        rows = await rounds_repo.candidates(session, round_id)
    new_weights = {**current.policy.weights, **(weights or {})}
    new_quotas = quotas if quotas is not None else current.quotas
    cost = {d: current.policy.cost(d) for d in current.policy.monthly_value_tiyn}
    cats: dict[str, list[ranking.Category]] = {}
    candidates = []
    for r in rows:
        key = str(r["application_id"])
        cats[key] = [
            ranking.Category(c, date.fromisoformat(f), date.fromisoformat(u) if u else None)
            for c, f, u in r["categories"]
        ]
        candidates.append(
            ranking.Candidate(
                key,
                r["district_code"],
                r["direction"],
                ranking.score(cats[key], new_weights, current.reference_date),
                r["lottery"],
            )
        )
    policy = ranking.Policy(
        {(district, d): q for district, cells in new_quotas.items() for d, q in cells.items()},
        cost,
        current.budget_tiyn,
        current.voucher_count,
    )
    result = ranking.allocate(candidates, policy)
    after = {o.key for o in result.awarded}
    before = {str(r["application_id"]) for r in rows if r["allocated_outcome"] == "awarded"}
    by_key = {c.key: c for c in candidates}
    per_district: dict[str, dict[str, int]] = {}
    per_category: dict[str, dict[str, int]] = {}
    for key in after ^ before:
        change = "gain" if key in after else "lose"
        c = by_key[key]
        per_district.setdefault(c.district, {"gain": 0, "lose": 0})[change] += 1
        for code in ranking.valid_codes(cats[key], current.reference_date) or ["none"]:
            per_category.setdefault(code, {"gain": 0, "lose": 0})[change] += 1
    return {
        "round_id": round_id,
        "applications": len(rows),
        "awarded_now": len(before),
        "awarded_simulated": len(after),
        "spent_simulated_tiyn": result.spent,
        "gain": len(after - before),
        "lose": len(before - after),
        "by_district": per_district,
        "by_category": per_category,
    }


# --- vouchers ---------------------------------------------------------------------------------------


async def _reoffer(session: AsyncSession, round_id: UUID) -> list[dict[str, Any]]:
    """Offer freed places to the waitlist while the round's direction, budget and cap allow: a free district quota
    place to that district × direction's best-ranked waitlisted application first, else the direction's
    best-ranked one (flow)."""
    current = await rounds_repo.get_round(session, round_id)
    assert current is not None
    awarded = []
    while True:  # one place at a time: each award changes which district quota still has a free place
        for candidate in await allocation_sql.waitlisted_in_order(session, round_id):
            voucher = await allocation_sql.try_award_one(session, current, candidate)
            if voucher is not None:
                awarded.append(voucher)
                await outbox.add_event(session, voucher_awarded(voucher))
                break
        else:
            break
    if awarded:  # everyone behind them in their district × direction queue moved up: tell exactly those
        for moved in await allocation_sql.moved_up(session, round_id, [v["application_id"] for v in awarded]):
            await outbox.add_event(
                session,
                events.ApplicationWaitlistedV1(
                    application_id=moved["application_id"],
                    round_id=round_id,
                    child_id=moved["child_id"],
                    position=moved["position"],
                ),
            )
    return awarded


def voucher_awarded(v: dict[str, Any]) -> events.VoucherAwardedV1:
    return events.VoucherAwardedV1(
        voucher_id=v["voucher_id"],
        application_id=v["application_id"],
        child_id=v["child_id"],
        region_code=v["region_code"],
        district_code=v["district_code"],
        round_id=v["round_id"],
        direction=v["direction"],
        monthly_value_tiyn=v["monthly_value_tiyn"],
        months=v["months"],
        valid_until=v["valid_until"],
        assign_by=v["assign_by"],
    )


async def _lock_voucher(session: AsyncSession, voucher_id: UUID) -> dict[str, Any]:
    voucher = await rounds_repo.lock_voucher(session, voucher_id)
    if voucher is None:
        raise NotFound("no such voucher")
    return voucher


async def decline_voucher(sessions: Sessions, voucher_id: UUID, person: str) -> list[dict[str, Any]]:
    """The holder gives an unassigned voucher up: it returns to the round at once and is re-offered."""
    async with sessions() as session, session.begin():
        voucher = await _lock_voucher(session, voucher_id)
        if not await rounds_repo.is_guardian(session, voucher["child_id"], person):
            raise NotFound("no such voucher")
        if not (voucher["status"] == "awarded" or (voucher["status"] == "released" and voucher["reassignable_until"])):
            raise Conflict(f"the voucher is {voucher['status']}")
        await rounds_repo.set_voucher_status(session, voucher_id, "released", reassignable_until=None)
        await allocation_sql.free_counters(session, voucher)
        await outbox.add_event(
            session,
            events.VoucherReleasedV1(
                voucher_id=voucher_id, child_id=voucher["child_id"], round_id=voucher["round_id"], reason="declined"
            ),
        )
        return await _reoffer(session, voucher["round_id"])


async def revoke_voucher(
    sessions: Sessions, voucher_id: UUID, reason: events.VoucherRevokeReason, note: str | None = None
) -> list[dict[str, Any]]:
    """Revoke: the reason code goes on the bus, the administrator's note stays in the voucher's row."""
    async with sessions() as session, session.begin():
        voucher = await _lock_voucher(session, voucher_id)
        if voucher["status"] in ("revoked", "expired") or (
            voucher["status"] == "released" and voucher["reassignable_until"] is None
        ):
            raise Conflict(f"the voucher is already {voucher['status']}")
        await rounds_repo.set_voucher_status(session, voucher_id, "revoked", reassignable_until=None)
        await rounds_repo.set_voucher_reason(session, voucher_id, reason, note)
        await allocation_sql.free_counters(session, voucher)
        await outbox.add_event(
            session,
            events.VoucherRevokedV1(
                voucher_id=voucher_id, child_id=voucher["child_id"], round_id=voucher["round_id"], reason=reason
            ),
        )
        return await _reoffer(session, voucher["round_id"])


async def expire_vouchers(sessions: Sessions, today: date) -> int:
    """Awarded vouchers never assigned by their deadline expire; released vouchers whose grace ended are returned.

    Both go back to their round and are re-offered to the waitlist.
    """
    done = 0
    async with sessions() as session, session.begin():
        for voucher in await rounds_repo.lapsed_vouchers(session, today):
            reason = "not_assigned_by_deadline" if voucher["status"] == "awarded" else "release_grace_ended"
            await rounds_repo.set_voucher_status(session, voucher["voucher_id"], "expired", reassignable_until=None)
            await allocation_sql.free_counters(session, voucher)
            await outbox.add_event(
                session,
                events.VoucherExpiredV1(
                    voucher_id=voucher["voucher_id"],
                    child_id=voucher["child_id"],
                    round_id=voucher["round_id"],
                    reason=reason,
                ),
            )
            await _reoffer(session, voucher["round_id"])
            done += 1
    return done


async def vouchers_of_child(
    sessions: Sessions, child_id: UUID, person: str, staff: Caller | None
) -> list[dict[str, Any]]:
    """A child's vouchers: for the guardian, or staff serving the child's region and district (else 404)."""
    async with sessions() as session:
        if not (
            await _serves_child(session, child_id, staff) or await rounds_repo.is_guardian(session, child_id, person)
        ):
            raise NotFound("no such child")
        return await rounds_repo.vouchers_of_child(session, child_id)


async def _serves_child(session: AsyncSession, child_id: UUID, staff: Caller | None) -> bool:
    if staff is None or not staff.reader:
        return False
    view = await repository.get_child(session, child_id)
    return view is not None and staff.serves(view.region_code, view.district_code)


# --- consumers --------------------------------------------------------------------------------------


async def record_guardianship_established(session: AsyncSession, event: GuardianshipEstablishedV1) -> None:
    await rounds_repo.record_guardianship(session, event.child_id, event.guardian_id, True, event.occurred_at)


async def record_guardianship_ended(session: AsyncSession, event: GuardianshipEndedV1) -> None:
    await rounds_repo.record_guardianship(session, event.child_id, event.guardian_id, False, event.occurred_at)


async def record_categories(session: AsyncSession, event: ChildCategoriesVerifiedV1) -> None:
    await rounds_repo.replace_categories(
        session,
        event.child_id,
        [ranking.Category(c.code, c.valid_from, c.valid_until) for c in event.categories],
        event.occurred_at,
    )


async def on_enrolment_requested(session: AsyncSession, event: EnrolmentRequestedV1) -> None:
    """Assign the child's valid voucher of that direction to the enrolment, or reject with a reason."""
    today = event.occurred_at.date()

    async def reject(reason: str) -> None:
        await outbox.add_event(
            session,
            events.VoucherAssignmentRejectedV1(
                enrolment_id=event.enrolment_id,
                child_id=event.child_id,
                reason=reason,  # type: ignore[arg-type]
            ),
        )

    existing = await rounds_repo.voucher_of_enrolment(session, event.enrolment_id)
    if existing is not None:  # a redelivered request under a new event id: answer the same way
        return
    vouchers = await rounds_repo.lock_child_vouchers(session, event.child_id)
    # a change of club: the voucher of the enrolment being replaced moves only if every check below passes, so a
    # refusal leaves it where it was (catalog ends the old enrolment only after our VoucherAssigned)
    moving = [
        v
        for v in vouchers
        if event.replaces_enrolment_id is not None
        and v["status"] == "assigned"
        and v["enrolment_id"] == event.replaces_enrolment_id
        and v["direction"] == event.direction
        and v["valid_until"] >= today
    ]
    usable = moving + [
        v
        for v in vouchers
        if v["direction"] == event.direction
        and v["valid_until"] >= today
        and (
            v["status"] == "awarded"
            or (v["status"] == "released" and v["reassignable_until"] and v["reassignable_until"] >= today)
        )
    ]
    if not usable:
        if any(v["status"] == "assigned" and v["direction"] == event.direction for v in vouchers):
            await reject("already_assigned")
        else:
            await reject("no_valid_voucher")
        return
    voucher = usable[0]
    if voucher["region_code"] != event.region_code:
        await reject("wrong_region")
        return
    child = await repository.get_child(session, event.child_id)
    if child is not None and not event.age_min <= age_on(child.birth_date, today) <= event.age_max:
        await reject("age_band")
        return
    await rounds_repo.assign_voucher(session, voucher["voucher_id"], event.enrolment_id)
    await outbox.add_event(
        session,
        events.VoucherAssignedV1(
            voucher_id=voucher["voucher_id"],
            enrolment_id=event.enrolment_id,
            child_id=event.child_id,
            programme_id=event.programme_id,
            provider_id=event.provider_id,
            direction=voucher["direction"],
            monthly_value_tiyn=voucher["monthly_value_tiyn"],
            valid_until=voucher["valid_until"],
        ),
    )


async def on_enrolment_ended(session: AsyncSession, event: EnrolmentEndedV1) -> None:
    """Release the voucher: the same child may use it for another enrolment within the round's grace period."""
    voucher = await rounds_repo.voucher_of_enrolment(session, event.enrolment_id, lock=True)
    if voucher is None or voucher["status"] != "assigned":
        return
    current = await rounds_repo.get_round(session, voucher["round_id"])
    assert current is not None
    until = event.occurred_at.date() + timedelta(days=current.release_grace_days)
    await rounds_repo.set_voucher_status(session, voucher["voucher_id"], "released", reassignable_until=until)
    await outbox.add_event(
        session,
        events.VoucherReleasedV1(
            voucher_id=voucher["voucher_id"],
            child_id=voucher["child_id"],
            round_id=voucher["round_id"],
            enrolment_id=event.enrolment_id,
            reason="enrolment_ended",
            reassignable_until=until,
        ),
    )
