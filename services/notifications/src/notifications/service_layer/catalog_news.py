"""Catalog's news: programmes (titles for the texts), enrolments and expiring attestations.

Every handler runs inside the consumer wrapper's transaction (docs/architecture.md, "Delivery").
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.adapters import programmes_repository
from notifications.service_layer.dependencies import Dependencies
from qosym_contracts.catalog import (
    ProgrammeChangedV1,
    ProgrammePublishedV1,
)


async def on_programme(
    deps: Dependencies, session: AsyncSession, event: ProgrammePublishedV1 | ProgrammeChangedV1
) -> None:
    title = event.title.model_dump() if event.title else None
    await programmes_repository.set_programme(session, event.programme_id, event.provider_id, title, event.occurred_at)
