"""Request and response models of the review routes."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from catalog.service_layer.models import PublicReviewOut, PublicReviewPage, RatingsOut, ReviewOut
from qosym_chassis.inputs import MultilineText
from qosym_contracts.reviews import ReviewHideReason

__all__ = [
    "PublicReviewOut",
    "PublicReviewPage",
    "RatingsOut",
    "ReviewAnswerIn",
    "ReviewEditIn",
    "ReviewHideIn",
    "ReviewIn",
    "ReviewOut",
]


class ReviewEditIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"rating": 5, "text": "Patient coach, my son loves it."}]}
    )
    rating: int = Field(ge=1, le=5)
    text: MultilineText = Field(min_length=1, max_length=2000)


class ReviewIn(ReviewEditIn):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"enrolment_id": "8b1d6f0e-2c3a-4e5f-9a7b-0c1d2e3f4a5b", "rating": 5, "text": "Patient coach."}
            ]
        },
    )
    enrolment_id: UUID


class ReviewHideIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason_code": "personal_data"}]})
    reason_code: ReviewHideReason


class ReviewAnswerIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"text": "Thank you, see you at the tournament!"}]}
    )
    text: MultilineText = Field(min_length=1, max_length=2000)
