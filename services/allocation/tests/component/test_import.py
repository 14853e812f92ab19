"""``python -m allocation import``: applications entered in bulk, each as its guardian's own application."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.support import imports

from .test_rounds import sql, world  # noqa: F401  (the fixture)

pytestmark = pytest.mark.component


async def test_paper_applications_follow_the_apis_rules_and_refusals_name_the_field(
    world,  # noqa: F811
    stack_servers,
    jwks_url,
    tmp_path,
):
    r = await world.round()
    await world.act(r, "open")
    child, _, guardian = await world.child()
    second, _, second_guardian = await world.child(district="nura")
    stranger = str(uuid.uuid4())

    def paper(child_id: str, guardian_id: str, direction: str = "sports") -> str:
        return json.dumps({"round_id": r, "guardian_id": guardian_id, "child_id": child_id, "direction": direction})

    lines = [
        paper(child, guardian),
        paper(second, stranger),  # not this person's child: as the API, "no such child"
        paper(second, second_guardian, "chess"),  # no vouchers for chess in this round
        json.dumps({"round_id": r, "child_id": second, "direction": "sports"}),  # who applies is missing
        paper(second, second_guardian),
    ]
    code, answers = imports.run_import("allocation", stack_servers, world.url, jwks_url, tmp_path, lines)

    assert code == 1
    assert [("result" in a) for a in answers] == [True, False, False, False, True], answers
    assert answers[1]["error"] == {"status": 404, "detail": "no such child", "errors": []}
    assert [e["field"] for e in answers[2]["error"]["errors"]] == ["direction"]
    assert [e["field"] for e in answers[3]["error"]["errors"]] == ["guardian_id"]
    assert answers[0]["result"]["status"] == "submitted"
    submitted = await sql(world.url, "select count(*) from outbox where event_type = 'allocation.ApplicationSubmitted'")
    assert submitted[0][0] == 2

    again, answers = imports.run_import("allocation", stack_servers, world.url, jwks_url, tmp_path, lines[:1])
    assert again == 1 and answers[0]["error"]["status"] == 409  # one application per child per round
    submitted = await sql(world.url, "select count(*) from outbox where event_type = 'allocation.ApplicationSubmitted'")
    assert submitted[0][0] == 2
