"""Operator review of flagged records: people and children whose declared data disagrees with their IIN.

People carry no region: only an administrator sees and clears their flags.
"""

from __future__ import annotations

from uuid import UUID

from qosym_chassis.errors import NotFound
from registry.adapters import audit, review_queries
from registry.adapters.audit import Actor
from registry.domain.model import Flagged, OperatorScope
from registry.service_layer.dependencies import Dependencies
from registry.service_layer.paging import Page

ENTITIES = ("child", "person")
NO_SUCH_RECORD = "no such record"


async def flagged(deps: Dependencies, scope: OperatorScope, offset: int, limit: int) -> Page[Flagged]:
    async with deps.sessions() as session:
        items, total = await review_queries.flagged(session, scope, offset, limit)
    return Page(items, total, offset, limit)


async def clear_flags(deps: Dependencies, entity: str, row_id: UUID, actor: Actor, scope: OperatorScope) -> None:
    if entity not in ENTITIES:
        raise NotFound(NO_SUCH_RECORD)
    async with deps.sessions() as session, session.begin():
        row = await review_queries.flagged_row(session, entity, row_id)
        if row is None or (
            scope.limited and (entity != "child" or not scope.covers(row.region_code, row.district_code))
        ):
            raise NotFound(NO_SUCH_RECORD)
        await review_queries.clear_flags(session, entity, row_id)
        await audit.append(session, actor, "flags.cleared", entity, row_id, {"flags": row.flags})
