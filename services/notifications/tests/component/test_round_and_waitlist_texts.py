"""What a guardian reads about a round closed early and about a waitlist position that moved."""

from uuid import uuid4

import pytest

from notifications.adapters.templates import Renderer
from qosym_contracts.allocation import RoundClosedV1
from tests.support.events import child_registered, message

from .support import rows, submitted

pytestmark = pytest.mark.component


async def test_applicants_are_told_a_round_closed_early_and_why(service_db, consumer) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    guardian, child, late_child = uuid4(), uuid4(), uuid4()
    await c.deliver(message(child_registered(guardian, child)))
    await c.deliver(message(child_registered(guardian, late_child)))
    round_id = uuid4()
    await c.deliver(message(submitted(child, round_id)))
    early = RoundClosedV1(
        round_id=round_id, region_code="astana", seed_hex="ab" * 32, applications=2, early_close_reason="emergency"
    )
    await c.deliver(message(early))
    await c.deliver(message(submitted(late_child, round_id)))  # consumed after the closing: told the same

    found = await rows(
        url, "SELECT payload->>'early_close_reason' AS reason FROM inbox_message WHERE kind = 'round_closed'"
    )
    assert [r["reason"] for r in found] == ["emergency", "emergency"]
    renderer = Renderer(strict=True)
    texts = {
        language: renderer.render("round_closed", language, {"early_close_reason": "emergency"}).body
        for language in ("kk", "ru", "en")
    }
    assert "before its announced end: an emergency" in texts["en"]
    assert "раньше объявленного срока: чрезвычайная ситуация" in texts["ru"]
    assert "мерзімнен бұрын жабылды: төтенше жағдай" in texts["kk"]
    on_time = renderer.render("round_closed", "en", {"early_close_reason": None}).body
    assert "announced end" not in on_time
