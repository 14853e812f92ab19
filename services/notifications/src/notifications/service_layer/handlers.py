"""Notifications use cases driven by events: keep the projections, fill the inboxes, schedule reminders.

Every handler runs inside the consumer wrapper's transaction (the chassis inbox has claimed the event id),
so messages, deliveries, reminders and NotificationDelivered events commit together with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.adapters import repository
from notifications.domain import messages as m
from notifications.domain import notices, reminders
from notifications.service_layer.fanout import publish
from qosym_chassis.clock import Clock
from qosym_contracts.allocation import (
    ApplicationSubmittedV1,
    ApplicationWaitlistedV1,
    ApplicationWithdrawnV1,
    RoundClosedV1,
    VoucherAssignedV1,
    VoucherAwardedV1,
    VoucherExpiredV1,
    VoucherRevokedV1,
)
from qosym_contracts.attendance import AttendanceConfirmedV1, AttendanceDisputedV1, AttendanceSubmittedV1
from qosym_contracts.catalog import ProgrammeChangedV1, ProgrammePublishedV1
from qosym_contracts.envelope import IntegrationEvent
from qosym_contracts.registry import ChildRegisteredV1, GuardianshipEndedV1, GuardianshipEstablishedV1


@dataclass(frozen=True)
class EventHandlers:
    clock: Clock
    zone: ZoneInfo
    attendance_reminder_days: int
    voucher_reminder_days: int

    # --- who the guardians are ---------------------------------------------------------------------

    async def on_child_registered(self, session: AsyncSession, event: ChildRegisteredV1) -> None:
        await repository.set_guardian(session, event.child_id, event.guardian_id, True, event.occurred_at)
        notice = m.child_registered(event.guardian_id, event.child_id, event.region_code, event.district_code)
        await publish(session, notice, event.event_id, self.clock.now())

    async def on_guardianship_established(self, session: AsyncSession, event: GuardianshipEstablishedV1) -> None:
        await repository.set_guardian(session, event.child_id, event.guardian_id, True, event.occurred_at)

    async def on_guardianship_ended(self, session: AsyncSession, event: GuardianshipEndedV1) -> None:
        await repository.set_guardian(session, event.child_id, event.guardian_id, False, event.occurred_at)

    async def on_programme(self, session: AsyncSession, event: ProgrammePublishedV1 | ProgrammeChangedV1) -> None:
        title = event.title.model_dump() if event.title else None
        await repository.set_programme(session, event.programme_id, event.provider_id, title, event.occurred_at)

    # --- events whose meaning needs nothing but the event --------------------------------------------

    async def on_direct(self, session: AsyncSession, event: IntegrationEvent) -> None:
        for notice in notices.DIRECT[type(event)](event):
            await publish(session, notice, event.event_id, self.clock.now())

    # --- rounds and applications -------------------------------------------------------------------

    async def on_application_submitted(self, session: AsyncSession, event: ApplicationSubmittedV1) -> None:
        await repository.remember_application(session, event.application_id, event.round_id, event.child_id)
        for notice in notices.application_received(event):
            await publish(session, notice, event.event_id, self.clock.now())
        closed = await repository.closed_round(session, event.round_id)
        if closed is not None:  # the round's closing was consumed first (another topic): tell this applicant too
            await self._round_closed(
                session,
                event.application_id,
                event.round_id,
                event.child_id,
                closed["closed_event_id"],
                closed["early_close_reason"],
            )

    async def on_application_withdrawn(self, session: AsyncSession, event: ApplicationWithdrawnV1) -> None:
        await repository.remember_application(session, event.application_id, event.round_id, event.child_id)
        await repository.update_application(session, event.application_id, withdrawn=True)
        await self.on_direct(session, event)

    async def on_round_closed(self, session: AsyncSession, event: RoundClosedV1) -> None:
        await repository.close_round(
            session, event.round_id, event.region_code, event.event_id, event.occurred_at, event.early_close_reason
        )
        closed = await repository.closed_round(session, event.round_id)
        assert closed is not None
        for row in await repository.applications_of_round(session, event.round_id):
            await self._round_closed(
                session,
                row["application_id"],
                event.round_id,
                row["child_id"],
                closed["closed_event_id"],
                closed["early_close_reason"],
            )

    async def _round_closed(
        self,
        session: AsyncSession,
        application_id: UUID,
        round_id: UUID,
        child_id: UUID,
        event_id: UUID,
        early_close_reason: str | None = None,
    ) -> None:
        payload = {
            "application_id": str(application_id),
            "round_id": str(round_id),
            "child_id": str(child_id),
            "early_close_reason": early_close_reason,
        }
        notice = m.Notice(m.ROUND_CLOSED, m.Guardians(child_id), application_id, str(application_id), payload)
        await publish(session, notice, event_id, self.clock.now())

    async def on_waitlisted(self, session: AsyncSession, event: ApplicationWaitlistedV1) -> None:
        await repository.remember_application(session, event.application_id, event.round_id, event.child_id)
        row = await repository.application_row(session, event.application_id)
        previous = row["position"] if row else None
        if previous == event.position:
            return
        await repository.update_application(session, event.application_id, position=event.position, was_waitlisted=True)
        payload = {
            "application_id": str(event.application_id),
            "round_id": str(event.round_id),
            "child_id": str(event.child_id),
            "position": event.position,
            "previous_position": previous,
        }
        notice = m.Notice(
            m.waitlist_kind(previous),
            m.Guardians(event.child_id),
            event.application_id,
            f"{event.application_id}:{event.position}",
            payload,
        )
        await publish(session, notice, event.event_id, self.clock.now())

    # --- vouchers ----------------------------------------------------------------------------------

    async def on_voucher_awarded(self, session: AsyncSession, event: VoucherAwardedV1) -> None:
        await repository.remember_application(session, event.application_id, event.round_id, event.child_id)
        row = await repository.application_row(session, event.application_id)
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
        kind = m.award_kind(bool(row and row["was_waitlisted"]))
        await publish(
            session,
            notices.voucher_notice(kind, event.voucher_id, payload, event.child_id),
            event.event_id,
            self.clock.now(),
        )
        await repository.update_application(session, event.application_id, position=None)
        if event.assign_by is not None:
            plan = reminders.voucher_reminder(event.assign_by, self.voucher_reminder_days, self.zone, self.clock.now())
            if plan is not None:
                await repository.schedule_reminder(
                    session, plan.kind, event.voucher_id, event.child_id, plan.fire_at, plan.deadline, payload
                )

    async def on_voucher_assigned(self, session: AsyncSession, event: VoucherAssignedV1) -> None:
        await repository.cancel_reminder(session, m.VOUCHER_USE_REMINDER, event.voucher_id)

    async def on_voucher_ended(self, session: AsyncSession, event: VoucherExpiredV1 | VoucherRevokedV1) -> None:
        await repository.cancel_reminder(session, m.VOUCHER_USE_REMINDER, event.voucher_id)
        await self.on_direct(session, event)

    # --- attendance ----------------------------------------------------------------------------------

    async def on_attendance_submitted(self, session: AsyncSession, event: AttendanceSubmittedV1) -> None:
        await self.on_direct(session, event)
        plan = reminders.attendance_reminder(event.confirm_by, self.attendance_reminder_days, self.clock.now())
        if plan is not None:
            payload = notices.attendance_submitted(event)[0].payload
            await repository.schedule_reminder(
                session, plan.kind, event.timesheet_id, event.child_id, plan.fire_at, plan.deadline, payload
            )

    async def on_timesheet_answered(
        self, session: AsyncSession, event: AttendanceConfirmedV1 | AttendanceDisputedV1
    ) -> None:
        await repository.cancel_reminder(session, m.ATTENDANCE_CONFIRM_REMINDER, event.timesheet_id)
        await self.on_direct(session, event)
