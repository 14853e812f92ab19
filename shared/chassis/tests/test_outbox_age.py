"""The relay reports how long the oldest unpublished event has waited (the dashboard's and the alert's figure)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, insert, update

from qosym_chassis import outbox
from qosym_chassis.outbox import OUTBOX

pytestmark = pytest.mark.component


async def test_the_oldest_unpublished_age_is_zero_when_drained_and_grows_with_the_oldest_pending_row(engine):
    assert await outbox.oldest_unpublished_age_s(engine) == 0.0
    async with engine.begin() as conn:
        for n, minutes in enumerate((30, 5, 1)):
            await conn.execute(
                insert(OUTBOX).values(
                    event_id=f"00000000-0000-0000-0000-00000000000{n}",
                    event_type="test.Happened",
                    topic="test.v1",
                    msg_key="k",
                    payload={},
                    created_at=func.now() - timedelta(minutes=minutes),
                )
            )
    age = await outbox.oldest_unpublished_age_s(engine)
    assert 30 * 60 <= age < 31 * 60
    async with engine.begin() as conn:  # the oldest is published: the next one's age counts
        await conn.execute(
            update(OUTBOX).where(OUTBOX.c.msg_key == "k", OUTBOX.c.id == 1).values(published_at=func.now())
        )
    age = await outbox.oldest_unpublished_age_s(engine)
    assert 5 * 60 <= age < 6 * 60
