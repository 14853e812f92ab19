"""The inbox: list it, count the unread, mark one read (service_layer/inbox.py)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from notifications.entrypoints.dependencies import AcceptLanguage, Deps, InboxReader, reader_of
from notifications.entrypoints.presenters import message_out
from notifications.entrypoints.schemas import MessageOut, UnreadOut
from notifications.service_layer import inbox
from qosym_chassis.inputs import OffsetPage

router = APIRouter(tags=["inbox"])


@router.get("/v1/inbox", responses={401: {}, 403: {}, 422: {}})
async def list_inbox(
    caller: InboxReader,
    deps: Deps,
    accept_language: AcceptLanguage = None,
    unread: Annotated[bool, Query(description="only the messages the caller has not read")] = False,
) -> OffsetPage[MessageOut]:
    """The caller's messages, newest first: their own and their provider's or region's (each read mark is theirs)."""
    page = await inbox.list_inbox(deps, reader_of(caller, accept_language), unread_only=unread)
    return OffsetPage[MessageOut](
        items=[message_out(m) for m in page.items], total=page.total, limit=page.limit, offset=page.offset
    )


@router.get("/v1/inbox/unread", responses={401: {}, 403: {}})
async def count_unread(caller: InboxReader, deps: Deps) -> UnreadOut:
    return UnreadOut(unread=await inbox.unread(deps, reader_of(caller)))


@router.post("/v1/inbox/{message_id}/read", responses={401: {}, 403: {}, 404: {}, 422: {}})
async def mark_read(
    message_id: UUID, caller: InboxReader, deps: Deps, accept_language: AcceptLanguage = None
) -> MessageOut:
    """Mark one of the caller's messages read for them (404 for anyone else's, the same as for none)."""
    return message_out(await inbox.mark_read(deps, reader_of(caller, accept_language), message_id))
