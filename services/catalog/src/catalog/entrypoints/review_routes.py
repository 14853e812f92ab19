"""Reviews and ratings: guardians write them after a confirmed month, operators of the region hide them, the
provider answers once; anyone reads a programme's visible reviews."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status

from catalog.entrypoints.dependencies import Deps, Official, Parent, ProviderStaff, caller_of
from catalog.entrypoints.review_schemas import (
    PublicReviewPage,
    ReviewAnswerIn,
    ReviewEditIn,
    ReviewHideIn,
    ReviewIn,
    ReviewOut,
)
from catalog.service_layer import reviews

router = APIRouter(tags=["reviews"])


@router.post("/v1/reviews", status_code=status.HTTP_201_CREATED, responses={404: {}, 409: {}, 422: {}})
async def write_review(body: ReviewIn, who: Parent, deps: Deps) -> ReviewOut:
    """A guardian rates (1-5) and reviews the programme of their child's enrolment: once, after a confirmed month
    with attendance (422 naming ``enrolment_id`` before; 409 for a second one)."""
    return await reviews.write(deps, caller_of(who), body.enrolment_id, body.rating, body.text)


@router.put("/v1/reviews/{review_id}", responses={404: {}, 409: {}, 422: {}})
async def edit_review(review_id: UUID, body: ReviewEditIn, who: Parent, deps: Deps) -> ReviewOut:
    """The author changes their review within 30 days of writing it."""
    return await reviews.edit(deps, caller_of(who), review_id, body.rating, body.text)


@router.post("/v1/reviews/{review_id}/hide", responses={404: {}, 409: {}, 422: {}})
async def hide_review(review_id: UUID, body: ReviewHideIn, who: Official, deps: Deps) -> ReviewOut:
    """An operator of the programme's region hides the review with a reason code (recorded; the author is told)."""
    return await reviews.hide(deps, caller_of(who), review_id, body.reason_code)


@router.post("/v1/reviews/{review_id}/answer", responses={404: {}, 409: {}, 422: {}})
async def answer_review(review_id: UUID, body: ReviewAnswerIn, who: ProviderStaff, deps: Deps) -> ReviewOut:
    """The programme's provider answers publicly, once."""
    return await reviews.answer(deps, caller_of(who), review_id, body.text)


@router.get("/v1/programmes/{programme_id}/reviews", responses={422: {}})
async def programme_reviews(
    programme_id: UUID,
    deps: Deps,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> PublicReviewPage:
    """A programme's visible reviews, newest first (public; no child, guardian or enrolment id)."""
    return await reviews.of_programme(deps, programme_id, limit, offset)
