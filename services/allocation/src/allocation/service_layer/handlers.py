"""Allocation use cases: regions as data, and the child projection."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from allocation.adapters import repository
from allocation.domain.children import ChildView
from allocation.domain.region import RegionConfig
from qosym_chassis import outbox
from qosym_chassis.consumer import Reject
from qosym_contracts import allocation as allocation_events
from qosym_contracts.registry import ChildDetailsChangedV1, ChildRegisteredV1


@dataclass(frozen=True)
class RegionApplied:
    revision: int
    created: bool
    changed: bool


async def apply_region(sessions: async_sessionmaker[AsyncSession], config: RegionConfig, actor: str) -> RegionApplied:
    """Add or update a region. An unchanged file changes nothing and publishes nothing."""
    async with sessions() as session, session.begin():
        current = await repository.lock_region(session, config.code)
        if current is not None and current.config == config:
            return RegionApplied(current.revision, created=False, changed=False)
        revision = 1 if current is None else current.revision + 1
        await repository.save_region(session, config, revision, actor)
        await outbox.add_event(session, region_configured(config, revision))
    return RegionApplied(revision, created=current is None, changed=True)


def region_configured(config: RegionConfig, revision: int) -> allocation_events.RegionConfiguredV1:
    return allocation_events.RegionConfiguredV1(
        region_code=config.code,
        revision=revision,
        name=allocation_events.LocalisedName(**config.name.model_dump()),
        timezone=config.timezone,
        districts=[allocation_events.District.model_validate(d.model_dump()) for d in config.districts],
        consultation_points=[
            allocation_events.ConsultationPoint.model_validate(p.model_dump()) for p in config.consultation_points
        ],
        directions=list(config.directions),
        child_age_min=config.child_age.min,
        child_age_max=config.child_age.max,
        voucher_monthly_value_tiyn=dict(config.voucher.monthly_value),
        voucher_months=config.voucher.months,
        priority_weights=dict(config.priority_weights),
        budget_tiyn=config.budget_tiyn,
        direction_quotas=dict(config.quotas),
    )


async def record_child_registered(session: AsyncSession, event: ChildRegisteredV1) -> None:
    await repository.record_child(
        session,
        ChildView(
            child_id=event.child_id,
            guardian_id=event.guardian_id,
            birth_date=event.birth_date,
            sex=event.sex,
            region_code=event.region_code,
            district_code=event.district_code,
            registered_at=event.occurred_at,
        ),
    )


async def record_child_details_changed(session: AsyncSession, event: ChildDetailsChangedV1) -> None:
    """A family moved: later applications use the new district (earlier ones keep the district they were ranked in)."""
    if not await repository.move_child(session, event.child_id, event.region_code, event.district_code):
        raise Reject(f"child {event.child_id} is unknown here; ChildRegistered must come first on this key")
