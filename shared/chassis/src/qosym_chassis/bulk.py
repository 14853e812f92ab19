"""``python -m <service> import FILE``: records of a JSON-lines file applied through the service's own use cases.

A service that accepts bulk imports (registry: families registered at a service point; allocation: applications
collected on paper) gives :func:`import_main` a handler for one record. Each record goes through the same service
layer as an API request: the same rules, the same audit rows and outgoing events, one transaction per record. What
this adds is only the loop: ``--concurrency`` records at a time, one JSON line per record on the output in the
input's order, ``{"line": N, "result": {...}}`` or ``{"line": N, "error": {"status", "detail", "errors"}}`` (a
record refused by a rule, as its problem+json would say, never the submitted values), and exit code 1 when any
record was refused. A malformed line is refused the same way and changes nothing.

Used by the benchmarks' set-up (``qosym bench round``) and by a city moving its existing registrations in.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, TextIO, TypeVar

from pydantic import BaseModel, ValidationError

from qosym_chassis.context import ServiceContext, build_context
from qosym_chassis.errors import Problem, validation_errors
from qosym_chassis.settings import ServiceSettings

Handler = Callable[[Mapping[str, Any]], Awaitable[Mapping[str, Any]]]
HandlerFactory = Callable[[ServiceSettings, ServiceContext, str], Handler]  # the last: who imports (audit)


class RecordRefused(Problem):
    """A line that is not a JSON object, or lacks what the handler needs."""

    status, title, type = 422, "Unprocessable content", "validation-failed"


def refusal(problem: Problem) -> dict[str, Any]:
    return {"status": problem.status, "detail": problem.detail, "errors": problem.errors or []}


M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], record: Mapping[str, Any]) -> M:
    """The record as the API's own input model reads a request body; its errors name the field, as a 422 does."""
    try:
        return model.model_validate(record)
    except ValidationError as exc:
        raise RecordRefused("the record is not valid", errors=validation_errors(exc)) from None


def parse_line(text: str) -> Mapping[str, Any]:
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordRefused(f"not JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(record, dict):
        raise RecordRefused("a record is a JSON object")
    return record


async def apply_lines(lines: list[str], handle: Handler, concurrency: int, out: TextIO) -> int:
    """Each non-empty line through ``handle``, ``concurrency`` at a time; results written in the input's order.
    Returns the number of refused records."""
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(number: int, text: str) -> dict[str, Any]:
        async with gate:
            try:
                return {"line": number, "result": dict(await handle(parse_line(text)))}
            except Problem as problem:
                return {"line": number, "error": refusal(problem)}

    numbered = [(n, text) for n, text in enumerate(lines, start=1) if text.strip()]
    refused = 0
    for answer in await asyncio.gather(*(one(n, text) for n, text in numbered)):
        refused += "error" in answer
        out.write(json.dumps(answer, default=str) + "\n")
    out.flush()
    return refused


def import_main(service: str, settings: ServiceSettings, argv: list[str], make_handler: HandlerFactory) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {service} import", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="JSON lines, one record each ('-' for standard input)")
    parser.add_argument("--concurrency", type=int, default=8, help="records applied at a time")
    parser.add_argument("--actor", default="bulk-import", help="who imports, as the audit trail names them")
    args = parser.parse_args(argv)
    text = sys.stdin.read() if str(args.file) == "-" else args.file.read_text(encoding="utf-8")

    async def run() -> int:
        context = build_context(settings, "import")
        try:
            return await apply_lines(
                text.splitlines(), make_handler(settings, context, args.actor), args.concurrency, sys.stdout
            )
        finally:
            await context.close()

    refused = asyncio.run(run())
    if refused:
        print(f"{refused} record(s) refused", file=sys.stderr)
    return 1 if refused else 0
