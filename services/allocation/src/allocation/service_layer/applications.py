"""Applications: a guardian applies and withdraws; guardians and the staff serving a region read them, with why
they ranked where they did (docs/architecture.md, "Service anatomy")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID, uuid4

from fastapi_pagination.ext.sqlalchemy import apaginate
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from allocation.adapters import (
    application_queries,
    application_repository,
    award_repository,
    child_repository,
    round_queries,
    round_repository,
)
from allocation.adapters.application_repository import ApplicationRow
from allocation.domain import ranking
from allocation.domain.rounds import RoundState, accepts_applications, age_on
from allocation.service_layer.access import Caller
from allocation.service_layer.dependencies import Dependencies
from allocation.service_layer.views import ApplicationOut, CategoryWeight, Cutoff, Explanation, NotCounted
from qosym_chassis import outbox
from qosym_chassis.callers import ADMINISTRATORS
from qosym_chassis.errors import Conflict, FieldError, NotFound
from qosym_chassis.inputs import OffsetPage
from qosym_contracts import allocation as events


async def apply(deps: Dependencies, round_id: UUID, child_id: UUID, direction: str, person: str) -> ApplicationOut:
    """A guardian applies for their child (one application per child per round)."""
    async with deps.sessions() as session, session.begin():
        current = await round_repository.get_round(session, round_id, share=True)
        if current is None:
            raise NotFound("no such round")
        child = await child_repository.get_child(session, child_id)
        if child is None or not await child_repository.is_guardian(session, child_id, person):
            raise NotFound("no such child")  # never reveal other people's children
        refusal = accepts_applications(
            current.state, current.application_opens_at, current.application_closes_at, deps.clock.now()
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
                await application_repository.insert_application(
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
        row = await application_repository.get_application(session, application_id)
    assert row is not None
    return ApplicationOut.of(row)


async def visible_application(
    session: AsyncSession, application_id: UUID, person: str, staff: Caller | None
) -> ApplicationRow:
    """The application if ``person`` is the child's guardian or ``staff`` serves its round's region and its
    district (see :mod:`allocation.service_layer.access`); otherwise 404, as if it did not exist."""
    row = await application_repository.get_application(session, application_id)
    if row is None:
        raise NotFound("no such application")
    if staff is not None and staff.reader:
        owner = await round_repository.get_round(session, row.round_id)
        if owner is not None and staff.serves(owner.region_code, row.district_code):
            return row
    if not await child_repository.is_guardian(session, row.child_id, person):
        raise NotFound("no such application")
    return row


async def _with_position(session: AsyncSession, row: ApplicationRow) -> ApplicationOut:
    position = None
    if row.status == "waitlisted" and row.rank is not None:  # a waitlisted application is ranked
        position = await award_repository.current_waitlist_position(
            session, row.round_id, row.district_code, row.direction, row.rank
        )
    voucher = await application_repository.voucher_of_application(session, row.application_id)
    return ApplicationOut.of(row, position, voucher)


async def view_application(deps: Dependencies, caller: Caller, application_id: UUID) -> ApplicationOut:
    async with deps.sessions() as session:
        row = await visible_application(session, application_id, caller.subject, caller)
        return await _with_position(session, row)


async def applications_of(deps: Dependencies, person: str) -> OffsetPage[ApplicationOut]:
    """The caller's children's applications with their current status, newest first."""
    try:
        person_id: UUID | None = UUID(person)
    except ValueError:
        person_id = None  # a subject that is no person id holds no applications
    async with deps.sessions() as session:

        async def with_positions(rows: Sequence[Any]) -> list[ApplicationOut]:
            return [await _with_position(session, ApplicationRow.of(r._mapping)) for r in rows]

        page: OffsetPage[ApplicationOut] = await apaginate(  # rows hold a JSON object (the score breakdown): a
            session,  # de-duplicating pass would hash it and fail, and a Core select has no duplicates to remove
            application_queries.guardian_applications_query(person_id),
            transformer=with_positions,
            unique=False,
        )
    return page


async def withdraw(deps: Dependencies, application_id: UUID, person: str) -> ApplicationOut:
    async with deps.sessions() as session, session.begin():
        row = await visible_application(session, application_id, person, staff=None)
        current = await round_repository.get_round(session, row.round_id, lock=True)  # serialises with close
        assert current is not None
        if current.state != RoundState.OPEN:
            raise Conflict(f"the round is {current.state.value}; applications can only be withdrawn while it is open")
        if not await application_repository.withdraw(session, application_id, deps.clock.now()):
            raise Conflict(f"the application is {row.status}")
        await outbox.add_event(
            session,
            events.ApplicationWithdrawnV1(application_id=application_id, round_id=row.round_id, child_id=row.child_id),
        )
        updated = await application_repository.get_application(session, application_id)
    assert updated is not None
    return ApplicationOut.of(updated)


# --- explanation ------------------------------------------------------------------------------------


async def explanation(deps: Dependencies, caller: Caller, application_id: UUID) -> Explanation:
    """Why: score by category and weight, lottery number, the cutoff of its district × direction, the outcome.
    Its guardian reads it, and of the staff only administrators."""
    staff = caller if caller.role in ADMINISTRATORS else None
    async with deps.sessions() as session:
        row = await visible_application(session, application_id, caller.subject, staff)
        current = await round_repository.get_round(session, row.round_id)
        assert current is not None
        categories = await child_repository.categories_of(session, row.child_id)
        uncounted = ranking.not_counted(categories, current.policy.weights, current.reference_date)
        if row.score_breakdown is None:  # not ranked yet: what would count now
            breakdown = ranking.score_breakdown(categories, current.policy.weights, current.reference_date)
        else:  # what the allocation counted (stored with its result; a later verification changes nothing)
            breakdown = [(str(code), int(weight)) for code, weight in row.score_breakdown]
            counted = {code for code, weight in breakdown if weight}
            uncounted = [(code, reason) for code, reason in uncounted if code not in counted]
        cut = await round_queries.cutoff(session, row.round_id, row.district_code, row.direction)
        position = None
        if row.status == "waitlisted" and row.rank is not None:  # a waitlisted application is ranked
            position = await award_repository.current_waitlist_position(
                session, row.round_id, row.district_code, row.direction, row.rank
            )
    quota = current.quotas.get(row.district_code, {}).get(row.direction, 0)
    cell = f"{row.district_code} × {row.direction}"
    if row.rank is None:
        why = (
            "The application was withdrawn."
            if row.status == "withdrawn"
            else f"The round is {current.state.value}; applications are ranked when it is allocated."
        )
    elif row.allocated_outcome == "awarded":
        how = "within its quota" if row.allocated_via == "quota" else "from quota unused in other districts"
        why = f"Ranked {row.rank} of the round with score {row.score}; a voucher was awarded in {cell} {how}."
    else:
        why = (
            f"Ranked {row.rank} with score {row.score}; {_vouchers(quota, cell)} (and the round's budget) "
            f"went to applications ranked higher"
            + (f" (the last one awarded had score {cut['score']}, rank {cut['rank']})" if cut else "")
            + f". Waitlist position {position if position is not None else row.waitlist_position}."
        )
        if row.status == "awarded":
            why += " A voucher was later offered from the waitlist."
    if uncounted:
        why += " Not counted: " + "; ".join(f"{code} ({NOT_COUNTED[reason]})" for code, reason in uncounted) + "."
    why += (
        f" Only categories an operator verified and valid on {current.reference_date.isoformat()} count; "
        "one declared but not yet verified does not."
    )
    return Explanation(
        application_id=row.application_id,
        status=row.status,
        score=sum(w for _, w in breakdown) if row.score is None else row.score,
        score_breakdown=[CategoryWeight(category=code, weight=weight) for code, weight in breakdown],
        not_counted=[NotCounted(category=code, reason=reason) for code, reason in uncounted],
        reference_date=current.reference_date,
        lottery_number=row.lottery,
        rank=row.rank,
        district_code=row.district_code,
        direction=row.direction,
        quota=quota,
        cutoff=Cutoff.model_validate(cut) if cut else None,
        outcome=row.allocated_outcome,
        via=row.allocated_via,
        waitlist_position=position,
        why=why,
    )


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
