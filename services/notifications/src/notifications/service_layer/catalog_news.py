"""Catalog's news: programmes (titles for the texts), enrolments and expiring attestations.

Every handler runs inside the consumer wrapper's transaction (docs/architecture.md, "Delivery").
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.adapters import programmes_repository
from notifications.service_layer.dependencies import Dependencies
from notifications.service_layer.fanout import publish_notices
from qosym_contracts.catalog import (
    AttestationExpiringV1,
    EnrolmentConfirmedV1,
    EnrolmentEndedV1,
    EnrolmentRejectedV1,
    EnrolmentRequestedV1,
    ProgrammeChangedV1,
    ProgrammePublishedV1,
)


async def on_programme(
    deps: Dependencies, session: AsyncSession, event: ProgrammePublishedV1 | ProgrammeChangedV1
) -> None:
    title = event.title.model_dump() if event.title else None
    await programmes_repository.set_programme(session, event.programme_id, event.provider_id, title, event.occurred_at)


async def on_enrolment_news(
    deps: Dependencies,
    session: AsyncSession,
    event: EnrolmentRequestedV1 | EnrolmentConfirmedV1 | EnrolmentRejectedV1 | EnrolmentEndedV1,
) -> None:
    """The provider's staff hear of a request; the guardians of the answer and of the enrolment's end."""
    await publish_notices(deps, session, event)


async def on_attestation_expiring(deps: Dependencies, session: AsyncSession, event: AttestationExpiringV1) -> None:
    await publish_notices(deps, session, event)
