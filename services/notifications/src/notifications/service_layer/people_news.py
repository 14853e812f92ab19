"""The registry's news: who each child's guardians are (the projection every child's message is sent by).

Each of them makes the child's guardians known: the messages parked until then are applied in the same
transaction (``parking.provided``; docs/architecture.md, "Delivery", Parking).

Every handler runs inside the consumer wrapper's transaction (the chassis inbox has claimed the event id), so
messages, deliveries and NotificationDelivered events commit with it (docs/architecture.md, "Delivery").
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.adapters import people_repository
from notifications.domain import messages as m
from notifications.service_layer.dependencies import Dependencies
from notifications.service_layer.fanout import guardians_known, publish
from qosym_chassis import parking
from qosym_contracts.registry import ChildRegisteredV1, GuardianshipEndedV1, GuardianshipEstablishedV1


async def on_child_registered(deps: Dependencies, session: AsyncSession, event: ChildRegisteredV1) -> None:
    await people_repository.set_guardian(session, event.child_id, event.guardian_id, True, event.occurred_at)
    await parking.provided(session, guardians_known(event.child_id))
    notice = m.child_registered(event.guardian_id, event.child_id, event.region_code, event.district_code)
    await publish(session, notice, event.event_id, deps.clock.now())


async def on_guardianship_established(
    deps: Dependencies, session: AsyncSession, event: GuardianshipEstablishedV1
) -> None:
    await people_repository.set_guardian(session, event.child_id, event.guardian_id, True, event.occurred_at)
    await parking.provided(session, guardians_known(event.child_id))


async def on_guardianship_ended(deps: Dependencies, session: AsyncSession, event: GuardianshipEndedV1) -> None:
    await people_repository.set_guardian(session, event.child_id, event.guardian_id, False, event.occurred_at)
    await parking.provided(session, guardians_known(event.child_id))
