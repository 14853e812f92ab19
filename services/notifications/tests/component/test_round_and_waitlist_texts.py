"""What a guardian reads about a round closed early and about a waitlist position that moved."""

from uuid import uuid4

import pytest

from notifications.adapters.templates import Renderer
from qosym_contracts.allocation import RoundClosedV1
from tests.support.events import child_registered, message

from .support import bearer, rows, submitted

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


async def test_a_parent_of_several_children_can_tell_the_messages_apart(
    service_db, consumer, api_client, token
) -> None:
    url = await service_db("notifications")
    c = await consumer("notifications", url)
    parent, only_child_parent = uuid4(), uuid4()
    first, second, alone = uuid4(), uuid4(), uuid4()
    for guardian, child in ((parent, first), (parent, second), (only_child_parent, alone)):
        await c.deliver(message(child_registered(guardian, child)))
    round_id = uuid4()
    for child in (first, second, alone):
        await c.deliver(message(submitted(child, round_id)))

    async with api_client("notifications", url) as client:
        inbox = await client.get("/v1/inbox", headers=bearer(token("parent", subject=str(parent))))
        russian = await client.get(
            "/v1/inbox", headers={**bearer(token("parent", subject=str(parent))), "Accept-Language": "ru"}
        )
        single = await client.get("/v1/inbox", headers=bearer(token("parent", subject=str(only_child_parent))))

    received = {
        m["payload"]["child_id"]: m["title"] for m in inbox.json()["items"] if m["kind"] == "application_received"
    }
    assert received == {
        str(first): "Application received · child 1 of 2",
        str(second): "Application received · child 2 of 2",
    }
    assert any(m["title"].endswith(" · ребёнок 2 из 2") for m in russian.json()["items"])
    assert [m["title"] for m in single.json()["items"] if m["kind"] == "application_received"] == [
        "Application received"
    ]
