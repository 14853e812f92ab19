"""The inbox's live stream (server-sent events) and the tickets a browser opens it with (service_layer/stream.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.sse import EventSourceResponse, ServerSentEvent

from notifications.entrypoints.dependencies import INBOX_READERS, AcceptLanguage, Deps, InboxReader, reader_of
from notifications.entrypoints.presenters import message_out
from notifications.entrypoints.schemas import TicketOut
from notifications.service_layer import stream
from notifications.service_layer.inbox import Reader
from qosym_chassis.auth import JwtVerifier, Principal
from qosym_chassis.errors import FieldError, Forbidden, Unauthorized
from qosym_chassis.idempotency import NOT_STORED
from qosym_chassis.inputs import INT64_MAX

router = APIRouter(tags=["stream"])
_bearer = HTTPBearer(auto_error=False, description="a JWT issued by the registry")


@router.post("/v1/inbox/stream-tickets", status_code=201, responses={401: {}, 403: {}}, openapi_extra=NOT_STORED)
async def stream_ticket(caller: InboxReader, deps: Deps, request: Request) -> TicketOut:
    """A single-use ticket to open the stream from a browser (EventSource cannot send the bearer token)."""
    reader_of(caller)
    issued = await stream.issue_ticket(deps, caller)
    return TicketOut(
        ticket=issued.ticket,
        expires_in=issued.expires_in,
        stream_url=f"{request.url_for('inbox_stream').path}?ticket={issued.ticket}",
    )


async def stream_caller(
    request: Request,
    deps: Deps,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ticket: Annotated[
        str | None, Query(min_length=20, max_length=100, description="from POST /v1/inbox/stream-tickets")
    ] = None,
) -> Principal:
    """The caller by a stream ticket or a bearer token; one of the inbox readers' roles (403 otherwise)."""
    if ticket is not None:
        principal = await stream.redeem_ticket(deps, ticket)
    elif credentials is not None and credentials.scheme.lower() == "bearer":
        verifier: JwtVerifier = request.app.state.jwt_verifier
        principal = await verifier.verify(credentials.credentials)
    else:
        raise Unauthorized("a bearer token or a stream ticket is required")
    if not principal.has_role(*INBOX_READERS):
        raise Forbidden(f"this needs one of the roles: {', '.join(INBOX_READERS)}")
    return principal


async def stream_resume(
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID", include_in_schema=False)] = None,
    last_event_id: Annotated[
        int | None, Query(ge=0, le=INT64_MAX, description="for a new EventSource: the last id it saw")
    ] = None,
) -> int | None:
    if last_event_id_header is None:
        return last_event_id
    if not last_event_id_header.isdigit():
        raise FieldError("Last-Event-ID", "the id of the last event received (a number)")
    return int(last_event_id_header)


async def stream_reader(
    caller: Annotated[Principal, Depends(stream_caller)], accept_language: AcceptLanguage = None
) -> Reader:
    return reader_of(caller, accept_language)


@router.get(
    "/v1/inbox/stream",
    name="inbox_stream",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "server-sent events: `ready`, then one `message` event per new inbox message",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        401: {},
        403: {},
        422: {},
    },
)
async def inbox_stream(
    reader: Annotated[Reader, Depends(stream_reader)],
    resume: Annotated[int | None, Depends(stream_resume)],
    deps: Deps,
) -> AsyncIterator[ServerSentEvent]:
    """Server-sent events: ``ready`` once subscribed, then a ``message`` (id = seq) for each new message.

    Open it with a bearer token, or from a browser with ``?ticket=`` (POST /v1/inbox/stream-tickets). A reconnect
    with ``Last-Event-ID`` (or ``?last_event_id=``) first replays what was missed.
    """
    async for item in stream.stream(deps, reader, resume):
        if isinstance(item, stream.Ready):
            data = {"unread": item.unread, "last_event_id": item.last_event_id}
            yield ServerSentEvent(event="ready", data=data, retry=3000)
        else:
            yield ServerSentEvent(event="message", id=str(item.seq), data=message_out(item))
