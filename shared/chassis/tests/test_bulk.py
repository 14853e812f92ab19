"""The bulk import loop: records in, one answer per record in the input's order, refusals as problem+json says."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from qosym_chassis import bulk
from qosym_chassis.errors import Conflict, FieldError


class Thing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    size: int


def run(lines: list[str], handle: bulk.Handler, concurrency: int = 4) -> tuple[int, list[dict[str, Any]]]:
    out = io.StringIO()
    refused = asyncio.run(bulk.apply_lines(lines, handle, concurrency, out))
    return refused, [json.loads(line) for line in out.getvalue().splitlines()]


def test_every_record_is_answered_in_the_input_order_with_refusals_naming_the_field() -> None:
    applied: list[str] = []
    fine_applied = asyncio.Event()

    async def handle(record: Mapping[str, Any]) -> Mapping[str, Any]:
        thing = bulk.validated(Thing, record)
        if thing.name == "slow":  # finishes after the last record
            await fine_applied.wait()
        if thing.name == "taken":
            raise Conflict("already there")
        if thing.size < 0:
            raise FieldError("size", "a size is not negative")
        applied.append(thing.name)
        if thing.name == "fine":
            fine_applied.set()
        return {"name": thing.name}

    lines = [
        json.dumps({"name": "slow", "size": 1}),
        "",
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"name": "extra", "size": 1, "secret": "900101300017"}),
        json.dumps({"name": "taken", "size": 1}),
        json.dumps({"name": "minus", "size": -1}),
        json.dumps({"name": "fine", "size": 2}),
    ]
    refused, answers = run(lines, handle)

    assert refused == 5
    assert [a["line"] for a in answers] == [1, 3, 4, 5, 6, 7, 8]  # the empty line is skipped, the order kept
    assert answers[0] == {"line": 1, "result": {"name": "slow"}}
    assert answers[-1] == {"line": 8, "result": {"name": "fine"}}
    assert answers[1]["error"]["status"] == 422 and "not JSON" in answers[1]["error"]["detail"]
    assert answers[2]["error"]["detail"] == "a record is a JSON object"
    assert [e["field"] for e in answers[3]["error"]["errors"]] == ["secret"]
    assert "900101300017" not in json.dumps(answers)  # a refusal never repeats the submitted value
    assert answers[4]["error"] == {"status": 409, "detail": "already there", "errors": []}
    assert answers[5]["error"]["errors"] == [{"field": "size", "message": "a size is not negative", "type": "invalid"}]
    assert applied == ["fine", "slow"]


def test_no_more_than_the_concurrency_run_at_once() -> None:
    running = peak = 0

    async def handle(record: Mapping[str, Any]) -> Mapping[str, Any]:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0)
        running -= 1
        return {}

    refused, answers = run([json.dumps({"n": n}) for n in range(50)], handle, concurrency=3)
    assert (refused, len(answers), peak) == (0, 50, 3)
