"""Reviews and ratings: a guardian rates and reviews a programme their child attended (once per enrolment, after a
confirmed month), edits it for 30 days; an operator of the programme's region hides one with a reason code (the
author is told through ReviewHidden); the provider answers publicly once. Rules in :mod:`catalog.domain.reviews`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from catalog.adapters import review_repository
from catalog.domain.programmes import RuleBroken
from catalog.domain.reviews import EDIT_WINDOW, Ratings, editable, ratings
from catalog.service_layer.access import Caller
from catalog.service_layer.dependencies import Dependencies
from catalog.service_layer.enrolments import is_guardian
from catalog.service_layer.models import PublicReviewOut, PublicReviewPage, RatingsOut, ReviewOut
from qosym_chassis import outbox
from qosym_chassis.errors import Conflict, NotFound
from qosym_contracts.reviews import ReviewHiddenV1, ReviewPublishedV1

Row = dict[str, Any]


def _out(row: Row) -> ReviewOut:
    return ReviewOut(**row, editable_until=row["created_at"] + EDIT_WINDOW)


def _ids(row: Row) -> dict[str, Any]:
    keys = ("programme_id", "provider_id", "enrolment_id", "child_id", "guardian_id")
    return {"review_id": row["id"], **{k: row[k] for k in keys}}


async def write(deps: Dependencies, caller: Caller, enrolment_id: UUID, rating: int, text: str) -> ReviewOut:
    """A guardian of the enrolment's child rates the programme, once, after a confirmed month with attendance."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        place = await review_repository.enrolment_place(session, enrolment_id)
        if place is None or not await is_guardian(session, place["child_id"], caller.subject):
            raise NotFound("no such enrolment")
        if not await review_repository.attended_a_confirmed_month(session, enrolment_id):
            raise RuleBroken("enrolment_id", "no confirmed month with attendance yet", "not_attended")
        row = await review_repository.add(
            session,
            {
                **place,
                "enrolment_id": enrolment_id,
                "guardian_id": UUID(caller.subject),
                "rating": rating,
                "text": text,
                "created_at": now,
                "updated_at": now,
            },
        )
        if row is None:
            message = "this enrolment has a review already (edit it instead)"
            raise Conflict(
                f"enrolment_id: {message}",
                errors=[{"field": "enrolment_id", "message": message, "type": "already_reviewed"}],
            )
        await outbox.add_event(session, ReviewPublishedV1(**_ids(row)))
    await deps.cache.invalidate()
    return _out(row)


async def _load(session: AsyncSession, review_id: UUID) -> Row:
    row = await review_repository.load(session, review_id, lock=True)
    if row is None:
        raise NotFound("no such review")
    return row


async def edit(deps: Dependencies, caller: Caller, review_id: UUID, rating: int, text: str) -> ReviewOut:
    """The author changes their rating and text within 30 days of writing it (not once hidden)."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        current = await _load(session, review_id)
        if str(current["guardian_id"]) != caller.subject:
            raise NotFound("no such review")
        if current["status"] != "visible":
            raise Conflict("the review was hidden by an operator")
        if not editable(current["created_at"], now):
            raise Conflict("the review can no longer be edited (30 days after it was written)")
        row = await review_repository.change(session, review_id, {"rating": rating, "text": text, "updated_at": now})
    await deps.cache.invalidate()
    return _out(row)


async def hide(deps: Dependencies, caller: Caller, review_id: UUID, reason_code: str) -> ReviewOut:
    """An operator of the programme's region (or an administrator) hides the review; its author is told."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        current = await _load(session, review_id)
        if not caller.in_region(current["region_code"]):
            raise NotFound("no such review")
        if current["status"] == "hidden":
            raise Conflict("the review is hidden already")
        row = await review_repository.change(
            session,
            review_id,
            {"status": "hidden", "hidden_reason": reason_code, "hidden_by": caller.actor, "hidden_at": now},
        )
        await outbox.add_event(session, ReviewHiddenV1(**_ids(row), reason_code=reason_code))
    await deps.cache.invalidate()
    return _out(row)


async def answer(deps: Dependencies, caller: Caller, review_id: UUID, text: str) -> ReviewOut:
    """The programme's provider answers the review publicly, once."""
    async with deps.sessions() as session, session.begin():
        current = await _load(session, review_id)
        if not caller.owns(current["provider_id"]):
            raise NotFound("no such review")
        if current["answer"] is not None:
            raise Conflict("the provider answered this review already")
        row = await review_repository.change(
            session, review_id, {"answer": text, "answered_by": caller.actor, "answered_at": deps.clock.now()}
        )
    return _out(row)


async def of_programme(deps: Dependencies, programme_id: UUID, limit: int, offset: int) -> PublicReviewPage:
    """A programme's visible reviews, newest first (public: no child, guardian or enrolment id)."""
    async with deps.sessions() as session:
        rows, total = await review_repository.visible_of_programme(session, programme_id, limit, offset)
    return PublicReviewPage(items=[PublicReviewOut(**r) for r in rows], total=total, limit=limit, offset=offset)


def ratings_out(value: Ratings | None) -> RatingsOut | None:
    return None if value is None else RatingsOut(count=value.count, mean=value.mean, distribution=value.distribution)


async def ratings_of(session: AsyncSession, programme_ids: list[UUID]) -> dict[UUID, RatingsOut | None]:
    counts = await review_repository.rating_counts(session, programme_ids)
    return {pid: ratings_out(ratings(counts.get(pid, {}))) for pid in programme_ids}
