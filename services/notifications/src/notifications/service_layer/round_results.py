"""A round's results, set-based (``Many``): a poll's ApplicationWaitlisted or VoucherAwarded events in a few
statements per table instead of a dozen round trips per event (docs/architecture.md, "Batches").

Each handler is the per-event one (``allocation_news.on_waitlisted``, ``on_voucher_awarded``) applied to many: the
same rows, messages, deliveries, reminders and outgoing events. The events go in waves, each application at most
once per wave and in the batch's order, so two events of one application apply one after the other. An event about a
child whose guardians are not known yet changes nothing and is returned to be parked with the key it awaits
(``fanout.guardians_known``), as the per-event path's ``ChildNotKnownYet``; every event of that child after it in
the batch parks too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.adapters import applications_repository as applications
from notifications.adapters import deliveries_repository, messages_repository, people_repository, reminders_repository
from notifications.adapters import preferences_repository as preferences
from notifications.domain import messages as m
from notifications.domain import notices, reminders
from notifications.domain.messages import NewMessage, Notice, addressed
from notifications.service_layer.dependencies import Dependencies
from notifications.service_layer.fanout import ChildNotKnownYet, guardians_known, reachability
from qosym_chassis import outbox
from qosym_contracts.allocation import ApplicationSubmittedV1, ApplicationWaitlistedV1, VoucherAwardedV1
from qosym_contracts.notifications import NotificationDeliveredV1

E = TypeVar("E", ApplicationSubmittedV1, ApplicationWaitlistedV1, VoucherAwardedV1)
CHUNK = 1000  # applications per statement when one event tells a whole round (the bind parameters stay < 32,767)


def waves(events: Sequence[E], key: Callable[[E], UUID]) -> list[list[E]]:
    """The events in order, split so that no wave holds two events of one key (the n-th of a key goes to wave n)."""
    found: list[list[E]] = []
    seen: dict[UUID, int] = {}
    for event in events:
        n = seen.get(key(event), 0)
        seen[key(event)] = n + 1
        if n == len(found):
            found.append([])
        found[n].append(event)
    return found


async def _known_or_parked(
    session: AsyncSession, events: Sequence[E], parked: dict[UUID, str], waiting: set[UUID]
) -> tuple[list[E], dict[UUID, list[UUID]]]:
    """The events whose child's guardians are known (with them); the others go to ``parked`` (their child to
    ``waiting``), as does every later event of a child already waiting."""
    guardians = await people_repository.guardians_of_children(session, [e.child_id for e in events])
    known = []
    for event in events:
        if event.child_id in guardians and event.child_id not in waiting:
            known.append(event)
        else:
            parked[event.event_id] = guardians_known(event.child_id)
            waiting.add(event.child_id)
    return known, guardians


async def _publish_all(
    session: AsyncSession, told: Sequence[tuple[Notice, UUID]], guardians: Mapping[UUID, list[UUID]], now: datetime
) -> None:
    """``fanout.publish`` for many notices to children's guardians: one message per guardian, its NotificationDelivered
    and its planned deliveries, in the notices' order."""
    new: list[NewMessage] = []
    for notice, event_id in told:
        assert isinstance(notice.target, m.Guardians)
        new.extend(addressed(notice, f"person:{g}", event_id) for g in guardians[notice.target.child_id])
    created = await messages_repository.add_messages(session, new)
    stored = [(n, created[(n.audience, n.dedup_key)]) for n in new if (n.audience, n.dedup_key) in created]
    await outbox.add_events(
        session,
        [
            NotificationDeliveredV1(
                notification_id=message_id, person_id=n.person_id, kind=n.kind, channel="in_app", delivered_at=now
            )
            for n, message_id in stored
            if n.person_id is not None
        ],
    )
    kept = await preferences.get_preferences(session, [n.person_id for n, _ in stored if n.person_id is not None])
    planned = [
        (message_id, n.person_id, channel)
        for n, message_id in stored
        if n.person_id is not None
        for channel in reachability(kept.get(n.person_id)).channels_for(n.kind)
    ]
    await deliveries_repository.add_deliveries(session, planned, now)


def round_closed_notice(application_id: UUID, closed: applications.ClosedRound, child_id: UUID) -> Notice:
    """What ``allocation_news._tell_round_closed`` tells an applicant."""
    payload = {
        "application_id": str(application_id),
        "round_id": str(closed.round_id),
        "child_id": str(child_id),
        "early_close_reason": closed.early_close_reason,
    }
    return Notice(m.ROUND_CLOSED, m.Guardians(child_id), application_id, str(application_id), payload)


async def tell_round_closed(
    session: AsyncSession,
    closed: applications.ClosedRound,
    known: Sequence[applications.KnownApplication],
    now: datetime,
) -> None:
    """Every open application of a closed round told, a chunk of applications per few statements; a child whose
    guardians are not known yet parks the whole close on the first such child, as one at a time (the transaction's
    savepoint undoes what was told before it)."""
    for start in range(0, len(known), CHUNK):
        chunk = known[start : start + CHUNK]
        guardians = await people_repository.guardians_of_children(session, [a.child_id for a in chunk])
        for a in chunk:
            if a.child_id not in guardians:
                raise ChildNotKnownYet(a.child_id)
        told = [(round_closed_notice(a.application_id, closed, a.child_id), closed.closed_event_id) for a in chunk]
        await _publish_all(session, told, guardians, now)


async def on_many_applications_submitted(
    deps: Dependencies, session: AsyncSession, events: Sequence[ApplicationSubmittedV1]
) -> Mapping[UUID, str]:
    """``allocation_news.on_application_submitted`` for a poll's applications."""
    parked: dict[UUID, str] = {}
    waiting: set[UUID] = set()
    now = deps.clock.now()
    for wave in waves(events, lambda e: e.application_id):
        known, guardians = await _known_or_parked(session, wave, parked, waiting)
        if not known:
            continue
        await applications.remember_applications(session, [(e.application_id, e.round_id, e.child_id) for e in known])
        closed = await applications.closed_rounds(session, [e.round_id for e in known])
        told: list[tuple[Notice, UUID]] = []
        for event in known:
            told.extend((notice, event.event_id) for notice in notices.application_received(event))
            if event.round_id in closed:  # the round's closing was consumed first: tell this applicant too
                closing = closed[event.round_id]
                told.append(
                    (round_closed_notice(event.application_id, closing, event.child_id), closing.closed_event_id)
                )
        await _publish_all(session, told, guardians, now)
    return parked


async def on_many_waitlisted(
    deps: Dependencies, session: AsyncSession, events: Sequence[ApplicationWaitlistedV1]
) -> Mapping[UUID, str]:
    """``allocation_news.on_waitlisted`` for a poll's waitlist places."""
    parked: dict[UUID, str] = {}
    waiting: set[UUID] = set()
    now = deps.clock.now()
    for wave in waves(events, lambda e: e.application_id):
        known, guardians = await _known_or_parked(session, wave, parked, waiting)
        if not known:
            continue
        await applications.remember_applications(session, [(e.application_id, e.round_id, e.child_id) for e in known])
        current = await applications.applications_for_update(session, [e.application_id for e in known])
        told: list[tuple[Notice, UUID]] = []
        moved: list[tuple[UUID, int | None]] = []
        for event in known:
            previous = current[event.application_id].position
            if previous == event.position:
                continue
            moved.append((event.application_id, event.position))
            payload = {
                "application_id": str(event.application_id),
                "round_id": str(event.round_id),
                "child_id": str(event.child_id),
                "position": event.position,
                "previous_position": previous,
            }
            notice = Notice(
                m.waitlist_kind(previous),
                m.Guardians(event.child_id),
                event.application_id,
                f"{event.application_id}:{event.position}",
                payload,
            )
            told.append((notice, event.event_id))
        await applications.set_positions(session, moved)
        await _publish_all(session, told, guardians, now)
    return parked


async def on_many_vouchers_awarded(
    deps: Dependencies, session: AsyncSession, events: Sequence[VoucherAwardedV1]
) -> Mapping[UUID, str]:
    """``allocation_news.on_voucher_awarded`` for a poll's awards."""
    parked: dict[UUID, str] = {}
    waiting: set[UUID] = set()
    now = deps.clock.now()
    for wave in waves(events, lambda e: e.application_id):
        known, guardians = await _known_or_parked(session, wave, parked, waiting)
        if not known:
            continue
        await applications.remember_applications(session, [(e.application_id, e.round_id, e.child_id) for e in known])
        current = await applications.applications_for_update(session, [e.application_id for e in known])
        told: list[tuple[Notice, UUID]] = []
        planned: dict[tuple[str, UUID], reminders_repository.PlannedReminder] = {}
        for event in known:
            payload: dict[str, Any] = {
                "voucher_id": str(event.voucher_id),
                "application_id": str(event.application_id),
                "round_id": str(event.round_id),
                "child_id": str(event.child_id),
                "direction": event.direction,
                "monthly_value_tiyn": event.monthly_value_tiyn,
                "months": event.months,
                "valid_until": event.valid_until.isoformat(),
                "assign_by": event.assign_by.isoformat() if event.assign_by else None,
            }
            kind = m.award_kind(current[event.application_id].was_waitlisted)
            told.append((notices.voucher_notice(kind, event.voucher_id, payload, event.child_id), event.event_id))
            if event.assign_by is not None:
                plan = reminders.voucher_reminder(
                    event.assign_by, deps.reminding.voucher_days, deps.reminding.zone, now
                )
                if plan is not None:  # one voucher's later award in the wave replaces its earlier one (as in order)
                    planned[(plan.kind, event.voucher_id)] = reminders_repository.PlannedReminder(
                        plan.kind, event.voucher_id, event.child_id, plan.fire_at, plan.deadline, payload
                    )
        await _publish_all(session, told, guardians, now)
        await applications.set_positions(session, [(e.application_id, None) for e in known])
        await reminders_repository.schedule_reminders(session, list(planned.values()))
    return parked
