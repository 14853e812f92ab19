"""Firing due reminders (a periodic job of the consumers process): each becomes a message for the guardians."""

from __future__ import annotations

import logging

from notifications.adapters import reminders_repository
from notifications.domain.messages import Guardians, Notice
from notifications.service_layer.dependencies import Dependencies
from notifications.service_layer.fanout import ChildNotKnownYet, publish

log = logging.getLogger("notifications.reminders")


async def fire_due_reminders(deps: Dependencies, limit: int = 100) -> int:
    """Reminders whose time has come become messages for the child's current guardians; the number fired."""
    fired = 0
    async with deps.sessions() as session, session.begin():
        now = deps.clock.now()
        for due in await reminders_repository.claim_due_reminders(session, now, limit):
            payload = {**due.payload, "deadline": due.deadline.isoformat() if due.deadline else None}
            notice = Notice(due.kind, Guardians(due.child_id), due.subject_id, str(due.subject_id), payload)
            try:
                await publish(session, notice, due.id, now)
            except ChildNotKnownYet:
                log.warning("reminder %s: the child's guardians are unknown; nobody to remind", due.id)
            await reminders_repository.settle_reminder(session, due.id, "fired")
            fired += 1
    return fired
