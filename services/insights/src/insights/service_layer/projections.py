"""What insights does with the events it consumes: facts keyed by opaque ids, no personal data.

Every handler is order-tolerant (events of different topics arrive in any order): each sets only its own columns of
a fact row, a revisioned or timestamped state never overwrites a newer one, and each moves the freshness forward.
The child id never reaches the database: it becomes a salted key; the birth date becomes the birth year.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from insights.adapters import facts_repository as repo
from insights.domain.dimensions import child_key
from insights.service_layer.dependencies import Dependencies
from qosym_contracts.allocation import (
    ApplicationSubmittedV1,
    ApplicationWaitlistedV1,
    ApplicationWithdrawnV1,
    RegionConfiguredV1,
    RoundClosedV1,
    RoundOpenedV1,
    VoucherAwardedV1,
    VoucherExpiredV1,
    VoucherRevokedV1,
)
from qosym_contracts.attendance import (
    AttendanceConfirmedV1,
    AttendanceDisputedV1,
    AttendanceSubmittedV1,
    DisputeResolvedV1,
)
from qosym_contracts.catalog import (
    EnrolmentConfirmedV1,
    EnrolmentEndedV1,
    ProgrammeChangedV1,
    ProgrammeClosedV1,
    ProgrammePublishedV1,
)
from qosym_contracts.envelope import IntegrationEvent
from qosym_contracts.payments import PaymentAccruedV1, ProviderPaidV1
from qosym_contracts.registry import ChildCategoriesVerifiedV1, ChildDetailsChangedV1, ChildRegisteredV1

E = TypeVar("E", bound=IntegrationEvent)
Handler = Callable[[Dependencies, AsyncSession, E], Awaitable[None]]


def fresh(handler: Handler[E]) -> Handler[E]:
    """The handler, then the freshness moved to the event's time: overall, and in its region when it names one."""

    @functools.wraps(handler)
    async def apply(deps: Dependencies, session: AsyncSession, event: E) -> None:
        await handler(deps, session, event)
        await repo.touch(session, getattr(event, "region_code", None), event.occurred_at)

    return apply


async def _touch_all(session: AsyncSession, events: Sequence[IntegrationEvent]) -> None:
    """``fresh`` for many events: the freshness moved to the latest of their times, overall and per region."""
    await repo.touch_many(session, [(getattr(e, "region_code", None), e.occurred_at) for e in events])


# --- set-based (``Many``): a poll's consecutive events of one type in one statement per table, the same rows as
# the per-event handlers below applied one after another (a round's burst, a registry backlog, a rebuild) -----------


async def on_many_child_details(
    deps: Dependencies, session: AsyncSession, events: Sequence[ChildRegisteredV1 | ChildDetailsChangedV1]
) -> Mapping[UUID, str]:
    """``on_child_details`` for many."""
    await repo.put_children_details(
        session,
        [
            {
                "child_key": child_key(deps.child_key_salt, e.child_id),
                "region_code": e.region_code,
                "district_code": e.district_code,
                "birth_year": e.birth_date.year,
                "details_at": e.occurred_at,
            }
            for e in events
        ],
    )
    await _touch_all(session, events)
    return {}


async def on_many_applications_submitted(
    deps: Dependencies, session: AsyncSession, events: Sequence[ApplicationSubmittedV1]
) -> Mapping[UUID, str]:
    """``on_application_submitted`` for many."""
    await repo.put_applications(
        session,
        [
            {
                "application_id": e.application_id,
                "round_id": e.round_id,
                "child_key": child_key(deps.child_key_salt, e.child_id),
                "region_code": e.region_code,
                "district_code": e.district_code,
                "direction": e.direction,
                "submitted_at": e.occurred_at,
            }
            for e in events
        ],
    )
    await _touch_all(session, events)
    return {}


async def on_many_applications_waitlisted(
    deps: Dependencies, session: AsyncSession, events: Sequence[ApplicationWaitlistedV1]
) -> Mapping[UUID, str]:
    """``on_application_waitlisted`` for many."""
    await repo.put_applications(
        session,
        [{"application_id": e.application_id, "waitlisted_at": e.occurred_at} for e in events],
        keep_first=["waitlisted_at"],
    )
    await _touch_all(session, events)
    return {}


async def on_many_vouchers_awarded(
    deps: Dependencies, session: AsyncSession, events: Sequence[VoucherAwardedV1]
) -> Mapping[UUID, str]:
    """``on_voucher_awarded`` for many."""
    await repo.put_vouchers(
        session,
        [
            {
                "voucher_id": e.voucher_id,
                "application_id": e.application_id,
                "round_id": e.round_id,
                "child_key": child_key(deps.child_key_salt, e.child_id),
                "region_code": e.region_code,
                "district_code": e.district_code,
                "direction": e.direction,
                "monthly_value_tiyn": e.monthly_value_tiyn,
                "months": e.months,
                "awarded_at": e.occurred_at,
            }
            for e in events
        ],
    )
    await _touch_all(session, events)
    return {}


@fresh
async def on_region_configured(deps: Dependencies, session: AsyncSession, event: RegionConfiguredV1) -> None:
    await repo.put_region(
        session,
        {
            "code": event.region_code,
            "revision": event.revision,
            "name": event.name.model_dump(),
            "timezone": event.timezone,
            "districts": [d.model_dump() for d in event.districts],
            "directions": list(event.directions),
            "budget_tiyn": event.budget_tiyn,
        },
    )


@fresh
async def on_child_details(
    deps: Dependencies, session: AsyncSession, event: ChildRegisteredV1 | ChildDetailsChangedV1
) -> None:
    await repo.put_child_details(
        session,
        {
            "child_key": child_key(deps.child_key_salt, event.child_id),
            "region_code": event.region_code,
            "district_code": event.district_code,
            "birth_year": event.birth_date.year,
            "details_at": event.occurred_at,
        },
    )


@fresh
async def on_child_categories(deps: Dependencies, session: AsyncSession, event: ChildCategoriesVerifiedV1) -> None:
    await repo.put_child_categories(
        session,
        {
            "child_key": child_key(deps.child_key_salt, event.child_id),
            "categories": sorted({c.code for c in event.categories}),
            "categories_at": event.occurred_at,
        },
    )


@fresh
async def on_round_opened(deps: Dependencies, session: AsyncSession, event: RoundOpenedV1) -> None:
    await repo.put_round(
        session,
        {
            "round_id": event.round_id,
            "region_code": event.region_code,
            "opens_at": event.application_opens_at,
            "closes_at": event.application_closes_at,
            "budget_tiyn": event.budget_tiyn,
        },
    )


@fresh
async def on_round_closed(deps: Dependencies, session: AsyncSession, event: RoundClosedV1) -> None:
    await repo.put_round(
        session, {"round_id": event.round_id, "region_code": event.region_code, "closed_at": event.occurred_at}
    )


@fresh
async def on_application_submitted(deps: Dependencies, session: AsyncSession, event: ApplicationSubmittedV1) -> None:
    await repo.put_application(
        session,
        {
            "application_id": event.application_id,
            "round_id": event.round_id,
            "child_key": child_key(deps.child_key_salt, event.child_id),
            "region_code": event.region_code,
            "district_code": event.district_code,
            "direction": event.direction,
            "submitted_at": event.occurred_at,
        },
    )


@fresh
async def on_application_withdrawn(deps: Dependencies, session: AsyncSession, event: ApplicationWithdrawnV1) -> None:
    await repo.put_application(
        session,
        {"application_id": event.application_id, "withdrawn_at": event.occurred_at},
        keep_first=["withdrawn_at"],
    )


@fresh
async def on_application_waitlisted(deps: Dependencies, session: AsyncSession, event: ApplicationWaitlistedV1) -> None:
    await repo.put_application(
        session,
        {"application_id": event.application_id, "waitlisted_at": event.occurred_at},
        keep_first=["waitlisted_at"],
    )


@fresh
async def on_voucher_awarded(deps: Dependencies, session: AsyncSession, event: VoucherAwardedV1) -> None:
    await repo.put_voucher(
        session,
        {
            "voucher_id": event.voucher_id,
            "application_id": event.application_id,
            "round_id": event.round_id,
            "child_key": child_key(deps.child_key_salt, event.child_id),
            "region_code": event.region_code,
            "district_code": event.district_code,
            "direction": event.direction,
            "monthly_value_tiyn": event.monthly_value_tiyn,
            "months": event.months,
            "awarded_at": event.occurred_at,
        },
    )


@fresh
async def on_voucher_ended(
    deps: Dependencies, session: AsyncSession, event: VoucherRevokedV1 | VoucherExpiredV1
) -> None:
    kind = "revoked" if isinstance(event, VoucherRevokedV1) else "expired"
    await repo.put_voucher(
        session,
        {"voucher_id": event.voucher_id, "ended_at": event.occurred_at, "end_kind": kind},
        keep_first=["ended_at", "end_kind"],
    )


@fresh
async def on_programme(
    deps: Dependencies, session: AsyncSession, event: ProgrammePublishedV1 | ProgrammeChangedV1
) -> None:
    await repo.put_programme(
        session,
        {
            "programme_id": event.programme_id,
            "provider_id": event.provider_id,
            "region_code": event.region_code,
            "district_code": event.district_code,
            "direction": event.direction,
            "capacity": event.capacity,
            "status": getattr(event, "status", "published"),
            "source_at": event.occurred_at,
        },
    )


@fresh
async def on_programme_closed(deps: Dependencies, session: AsyncSession, event: ProgrammeClosedV1) -> None:
    await repo.close_programme(session, event.programme_id, event.occurred_at)


@fresh
async def on_enrolment_confirmed(deps: Dependencies, session: AsyncSession, event: EnrolmentConfirmedV1) -> None:
    await repo.put_enrolment(
        session,
        {
            "enrolment_id": event.enrolment_id,
            "voucher_id": event.voucher_id,
            "programme_id": event.programme_id,
            "provider_id": event.provider_id,
            "region_code": event.region_code,
            "district_code": event.district_code,
            "direction": event.direction,
            "confirmed_at": event.occurred_at,
        },
    )


@fresh
async def on_enrolment_ended(deps: Dependencies, session: AsyncSession, event: EnrolmentEndedV1) -> None:
    await repo.put_enrolment(
        session, {"enrolment_id": event.enrolment_id, "ended_at": event.occurred_at}, keep_first=["ended_at"]
    )


def _timesheet(
    event: AttendanceSubmittedV1 | AttendanceConfirmedV1 | AttendanceDisputedV1 | DisputeResolvedV1,
) -> dict[str, object]:
    return {
        "timesheet_id": event.timesheet_id,
        "enrolment_id": event.enrolment_id,
        "programme_id": event.programme_id,
        "provider_id": event.provider_id,
        "region_code": event.region_code,
        "period": event.period,
        "planned_sessions": event.planned_sessions,
    }


@fresh
async def on_attendance_submitted(deps: Dependencies, session: AsyncSession, event: AttendanceSubmittedV1) -> None:
    attended = sorted(s.date for s in event.sessions if s.status == "attended")
    await repo.put_timesheet(
        session,
        {
            **_timesheet(event),
            "attended_sessions": event.attended_sessions,
            "first_attended_on": attended[0] if attended else None,
            "submitted_at": event.occurred_at,
        },
        keep_first=["submitted_at", "attended_sessions"],
    )


@fresh
async def on_attendance_confirmed(deps: Dependencies, session: AsyncSession, event: AttendanceConfirmedV1) -> None:
    await repo.put_timesheet(
        session,
        {
            **_timesheet(event),
            "attended_sessions": event.attended_sessions,
            "confirmed_at": event.occurred_at,
            "basis": event.basis,
        },
        keep_first=["attended_sessions", "confirmed_at", "basis"],
    )


@fresh
async def on_attendance_disputed(deps: Dependencies, session: AsyncSession, event: AttendanceDisputedV1) -> None:
    await repo.put_timesheet(
        session, {**_timesheet(event), "disputed_at": event.occurred_at}, keep_first=["disputed_at"]
    )


@fresh
async def on_dispute_resolved(deps: Dependencies, session: AsyncSession, event: DisputeResolvedV1) -> None:
    await repo.put_timesheet(
        session,
        {**_timesheet(event), "attended_sessions": event.attended_sessions, "resolved_at": event.occurred_at},
        keep_first=["resolved_at"],
    )


@fresh
async def on_payment_accrued(deps: Dependencies, session: AsyncSession, event: PaymentAccruedV1) -> None:
    await repo.put_accrual(
        session,
        {
            "accrual_id": event.accrual_id,
            "provider_id": event.provider_id,
            "programme_id": event.programme_id,
            "region_code": event.region_code,
            "period": event.period,
            "amount_tiyn": event.amount_tiyn,
        },
    )


@fresh
async def on_provider_paid(deps: Dependencies, session: AsyncSession, event: ProviderPaidV1) -> None:
    await repo.put_payout(
        session,
        {
            "batch_id": event.batch_id,
            "provider_id": event.provider_id,
            "region_code": event.region_code,
            "period": event.period,
            "amount_tiyn": event.amount_tiyn,
            "paid_at": event.paid_at,
        },
    )
