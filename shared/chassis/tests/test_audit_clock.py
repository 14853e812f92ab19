"""An audit row's time is the service's clock (shifted in development like its use cases), not the host's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qosym_chassis.audit import Actor, audit_log, create_audit_table, trail_from_settings
from qosym_chassis.clock import Clock
from qosym_chassis.settings import ServiceSettings


@pytest.mark.unit
def test_the_trail_of_a_service_runs_on_its_clock(tmp_path) -> None:
    settings = ServiceSettings(
        service_name="chassis-test",
        database_url="postgresql://nobody@127.0.0.1:1/none",
        dev_mode=True,
        clock_offset_s=86_400,
        keys_dir=tmp_path,
    )
    assert trail_from_settings(settings).clock == Clock(offset=timedelta(days=1))


@pytest.mark.component
async def test_an_appended_row_is_stamped_with_the_trails_clock(engine, tmp_path) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(create_audit_table)
    settings = ServiceSettings(
        service_name="chassis-test",
        database_url="postgresql://nobody@127.0.0.1:1/none",
        dev_mode=True,
        clock_offset_s=30 * 86_400,
        keys_dir=tmp_path / "keys",
        audit_head_dir=tmp_path / "heads",
    )
    trail = trail_from_settings(settings)
    real = Clock()
    before = real.now()
    async with AsyncSession(engine) as session, session.begin():
        await trail.append(session, Actor("admin-1", "administrator"), "thing.done", "thing", "t-1", {"k": 1})
    after = real.now()
    async with engine.connect() as conn:
        stamped = (await conn.execute(select(audit_log.c.occurred_at))).scalar_one()
    assert before + timedelta(days=30) <= stamped <= after + timedelta(days=30)
