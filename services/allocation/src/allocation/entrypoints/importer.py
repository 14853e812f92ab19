"""``python -m allocation import APPLICATIONS.jsonl``: applications in bulk, each as its guardian's
``POST /v1/rounds/{round_id}/applications`` (qosym_chassis.bulk: the same use case and rules, one transaction and
one ApplicationSubmitted each): a round's applications signed on paper at service points and entered later.

A record: ``round_id``, ``guardian_id`` (the person applying, who must be a guardian of the child), ``child_id``,
``direction``. The result is the application's id and status; a second application of a child in the round is
refused (409), as the API refuses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from pydantic import ConfigDict

from allocation.bootstrap import bootstrap
from allocation.config import AllocationSettings
from allocation.entrypoints.schemas import ApplicationIn
from allocation.service_layer import applications
from qosym_chassis import bulk
from qosym_chassis.context import ServiceContext


class PaperApplicationIn(ApplicationIn):
    model_config = ConfigDict(extra="forbid")

    round_id: UUID
    guardian_id: UUID


def handler(settings: AllocationSettings, context: ServiceContext, actor: str) -> bulk.Handler:
    deps = bootstrap(settings, context).deps

    async def apply(record: Mapping[str, Any]) -> Mapping[str, Any]:
        paper = bulk.validated(PaperApplicationIn, record)
        out = await applications.apply(deps, paper.round_id, paper.child_id, paper.direction, str(paper.guardian_id))
        return {"application_id": str(out.application_id), "status": out.status}

    return apply


def main(settings: AllocationSettings, argv: list[str]) -> int:
    return bulk.import_main("allocation", settings, argv, handler)  # type: ignore[arg-type]
