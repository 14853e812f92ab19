"""Regions as data: adding or changing a region, and reading them (docs/architecture.md, "Service anatomy")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi_pagination.ext.sqlalchemy import apaginate

from allocation.adapters import region_queries, region_repository
from allocation.domain.region import RegionConfig
from allocation.service_layer.dependencies import Dependencies
from allocation.service_layer.views import RegionApplied, RegionOut
from qosym_chassis import outbox
from qosym_chassis.errors import FieldError, NotFound
from qosym_chassis.inputs import OffsetPage
from qosym_contracts import allocation as allocation_events


async def apply_region(deps: Dependencies, code: str, config: RegionConfig, actor: str) -> RegionApplied:
    """Add or update a region. An unchanged file changes nothing and publishes nothing."""
    if config.code != code:
        raise FieldError("code", "must equal the region code in the path")
    async with deps.sessions() as session, session.begin():
        current = await region_repository.lock_region(session, config.code)
        if current is not None and current.config == config:
            return RegionApplied(
                region=RegionOut(revision=current.revision, config=config), created=False, changed=False
            )
        revision = 1 if current is None else current.revision + 1
        await region_repository.save_region(session, config, revision, actor)
        await outbox.add_event(session, region_configured(config, revision))
    return RegionApplied(region=RegionOut(revision=revision, config=config), created=current is None, changed=True)


async def list_regions(deps: Dependencies) -> OffsetPage[RegionOut]:
    """Every region running the programme, by code."""

    def regions_out(rows: Sequence[Any]) -> list[RegionOut]:
        return [RegionOut(revision=r.revision, config=RegionConfig.model_validate(r.config)) for r in rows]

    async with deps.sessions() as session:
        # unique=False: rows hold a JSON document (unhashable), and the query's key is already unique
        page: OffsetPage[RegionOut] = await apaginate(
            session, region_queries.regions_query(), transformer=regions_out, unique=False
        )
    return page


async def get_region(deps: Dependencies, code: str) -> RegionOut:
    async with deps.sessions() as session:
        stored = await region_repository.get_region(session, code)
    if stored is None:
        raise NotFound("no such region")
    return RegionOut(revision=stored.revision, config=stored.config)


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
        treasury_account=(
            allocation_events.TreasuryAccount.model_validate(config.treasury_account.model_dump())
            if config.treasury_account
            else None
        ),
    )
