"""Catalog's review events (owned by the catalog developers): ids only, never a review's text or rating.

Whoever is told (notifications: the author when an operator hid their review, the provider when one is published)
reads the review through catalog's API, which checks who may see it.
"""

from __future__ import annotations

from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from qosym_contracts import topics
from qosym_contracts.envelope import IntegrationEvent

ReviewHideReason = Literal["abusive", "personal_data", "off_topic", "advertising", "not_first_hand", "other"]


class _ReviewEvent(IntegrationEvent):
    topic: ClassVar[str] = topics.CATALOG_REVIEW.name
    key_field: ClassVar[str] = "review_id"

    review_id: UUID
    programme_id: UUID
    provider_id: UUID
    enrolment_id: UUID
    child_id: UUID
    guardian_id: UUID = Field(description="the author: the guardian who wrote the review")


class ReviewPublishedV1(_ReviewEvent):
    """A guardian rated and reviewed a programme their child attended (once per enrolment)."""

    event_type: Literal["catalog.ReviewPublished"] = "catalog.ReviewPublished"
    event_version: Literal[1] = 1


class ReviewHiddenV1(_ReviewEvent):
    """An operator of the programme's region hid a review: tell its author (``guardian_id``) why."""

    event_type: Literal["catalog.ReviewHidden"] = "catalog.ReviewHidden"
    event_version: Literal[1] = 1

    reason_code: ReviewHideReason
