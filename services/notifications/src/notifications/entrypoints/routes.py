"""Notifications HTTP routes: the inbox, its live stream, and the caller's own preferences."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.sse import EventSourceResponse, ServerSentEvent
from fastapi_pagination.ext.sqlalchemy import apaginate

from notifications.adapters import repository
from notifications.bootstrap import Notifications
from notifications.domain.messages import audiences_of
from notifications.entrypoints.schemas import (
    ContactOut,
    MessageOut,
    PreferencesIn,
    PreferencesOut,
    QuietHoursIn,
    TicketOut,
    UnreadOut,
)
from notifications.service_layer import inbox
from notifications.service_layer.texts import RenderedMessage
from qosym_chassis.auth import JwtVerifier, Principal, require_roles
from qosym_chassis.errors import FieldError, Forbidden, NotFound, Unauthorized
from qosym_chassis.idempotency import NOT_STORED
from qosym_chassis.inputs import INT64_MAX, OffsetPage

router = APIRouter()
READERS = ("parent", "provider_staff", "operator", "administrator")


def get_notifications(request: Request) -> Notifications:
    notifications: Notifications = request.app.state.notifications
    return notifications


NotificationsDep = Annotated[Notifications, Depends(get_notifications)]
Caller = Annotated[Principal, Depends(require_roles(*READERS))]
AcceptLanguage = Annotated[str | None, Header(alias="Accept-Language", include_in_schema=False)]


def reader_of(principal: Principal, accept_language: str | None = None) -> inbox.Reader:
    try:
        person_id = UUID(principal.subject)
    except ValueError as exc:
        raise FieldError("Authorization", "the token's subject (sub) is not a person or staff id (a UUID)") from exc
    return inbox.Reader(person_id, audiences_of(principal.role, person_id, principal.scope), accept_language)


def message_out(message: RenderedMessage) -> MessageOut:
    return MessageOut(
        id=message.id,
        seq=message.seq,
        kind=message.kind,
        subject_id=message.subject_id,
        payload=message.payload,
        created_at=message.created_at,
        read_at=message.read_at,
        title=message.title,
        body=message.body or None,
        language=message.language,
    )


@router.get("/v1/inbox", tags=["inbox"], responses={401: {}, 403: {}, 422: {}})
async def list_inbox(
    caller: Caller,
    notifications: NotificationsDep,
    accept_language: AcceptLanguage = None,
    unread: Annotated[bool, Query(description="only the messages the caller has not read")] = False,
) -> OffsetPage[MessageOut]:
    """The caller's messages, newest first: their own and their provider's or region's (each read mark is theirs)."""
    reader = reader_of(caller, accept_language)
    async with notifications.context.session_factory() as session:

        async def render(rows: list[object]) -> list[MessageOut]:
            messages = [repository.to_message(row) for row in rows]
            return [message_out(m) for m in await inbox.render_for(session, reader, notifications.texts, messages)]

        # unique=False: rows are distinct already, and JSONB values are unhashable for SQLAlchemy's unique()
        page: OffsetPage[MessageOut] = await apaginate(
            session,
            repository.inbox_query(reader.audiences, reader.person_id, unread_only=unread),
            unique=False,
            transformer=render,
        )
    return page


@router.get("/v1/inbox/unread", tags=["inbox"], responses={401: {}, 403: {}})
async def count_unread(caller: Caller, notifications: NotificationsDep) -> UnreadOut:
    return UnreadOut(unread=await inbox.unread(notifications.context.session_factory, reader_of(caller)))


@router.post("/v1/inbox/{message_id}/read", tags=["inbox"], responses={401: {}, 403: {}, 404: {}, 422: {}})
async def mark_read(
    message_id: UUID, caller: Caller, notifications: NotificationsDep, accept_language: AcceptLanguage = None
) -> MessageOut:
    """Mark one of the caller's messages read for them (404 for anyone else's, the same as for none)."""
    sessions = notifications.context.session_factory
    message = await inbox.mark_read(sessions, notifications.texts, reader_of(caller, accept_language), message_id)
    if message is None:
        raise NotFound("no such message")
    return message_out(message)


# --- the live stream ----------------------------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False, description="a JWT issued by the registry")


@router.post(
    "/v1/inbox/stream-tickets",
    tags=["stream"],
    status_code=201,
    responses={401: {}, 403: {}},
    openapi_extra=NOT_STORED,
)
async def stream_ticket(caller: Caller, notifications: NotificationsDep, request: Request) -> TicketOut:
    """A single-use ticket to open the stream from a browser (EventSource cannot send the bearer token)."""
    reader_of(caller)
    ticket = await notifications.tickets.issue(caller)
    return TicketOut(
        ticket=ticket,
        expires_in=notifications.tickets.ttl_s,
        stream_url=f"{request.url_for('inbox_stream').path}?ticket={ticket}",
    )


async def stream_caller(
    request: Request,
    notifications: NotificationsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ticket: Annotated[
        str | None, Query(min_length=20, max_length=100, description="from POST /v1/inbox/stream-tickets")
    ] = None,
) -> Principal:
    if ticket is not None:
        principal = await notifications.tickets.redeem(ticket)
        if principal is None:
            raise Unauthorized("the stream ticket is unknown, used or expired: ask for a new one")
    elif credentials is not None and credentials.scheme.lower() == "bearer":
        verifier: JwtVerifier = request.app.state.jwt_verifier
        principal = await verifier.verify(credentials.credentials)
    else:
        raise Unauthorized("a bearer token or a stream ticket is required")
    if not principal.has_role(*READERS):
        raise Forbidden(f"this needs one of the roles: {', '.join(READERS)}")
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
) -> inbox.Reader:
    return reader_of(caller, accept_language)


@router.get(
    "/v1/inbox/stream",
    name="inbox_stream",
    tags=["stream"],
    response_class=EventSourceResponse,
    responses={401: {}, 403: {}, 422: {}},
)
async def inbox_stream(
    reader: Annotated[inbox.Reader, Depends(stream_reader)],
    resume: Annotated[int | None, Depends(stream_resume)],
    notifications: NotificationsDep,
) -> AsyncIterator[ServerSentEvent]:
    """Server-sent events: ``ready`` once subscribed, then a ``message`` (id = seq) for each new message.

    Open it with a bearer token, or from a browser with ``?ticket=`` (POST /v1/inbox/stream-tickets). A reconnect
    with ``Last-Event-ID`` (or ``?last_event_id=``) first replays what was missed.
    """
    sessions = notifications.context.session_factory
    async for item in inbox.stream(sessions, notifications.hub, notifications.texts, reader, resume):
        if isinstance(item, inbox.Ready):
            data = {"unread": item.unread, "last_event_id": item.last_event_id}
            yield ServerSentEvent(event="ready", data=data, retry=3000)
        else:
            yield ServerSentEvent(event="message", id=str(item.seq), data=message_out(item))


# --- preferences -----------------------------------------------------------------------------------------


def preferences_out(view: inbox.PreferencesView) -> PreferencesOut:
    quiet = QuietHoursIn(start=view.quiet_start, end=view.quiet_end) if view.quiet_start and view.quiet_end else None
    return PreferencesOut(
        language=view.language,
        timezone=view.timezone,
        email=ContactOut(address=view.email, consented_at=view.email_consent_at) if view.email else None,
        phone=ContactOut(address=view.phone, consented_at=view.phone_consent_at) if view.phone else None,
        channels=view.channels,
        quiet_hours=quiet,
    )


@router.get("/v1/me/preferences", tags=["preferences"], responses={401: {}, 403: {}})
async def get_preferences(caller: Caller, notifications: NotificationsDep) -> PreferencesOut:
    """The caller's language, consented contacts, channels and quiet hours (contacts are the caller's own)."""
    reader = reader_of(caller)
    view = await inbox.read_preferences(
        notifications.context.session_factory, notifications.box, notifications.texts, reader.person_id
    )
    return preferences_out(view)


@router.put("/v1/me/preferences", tags=["preferences"], responses={401: {}, 403: {}, 422: {}})
async def put_preferences(body: PreferencesIn, caller: Caller, notifications: NotificationsDep) -> PreferencesOut:
    """Replace the caller's preferences. An address is kept only with consent; withdrawing consent deletes it."""
    reader = reader_of(caller)
    change = inbox.PreferencesChange(
        language=body.language,
        timezone=body.timezone,
        email=str(body.email.address) if body.email and body.email.consent and body.email.address else None,
        phone=body.phone.number if body.phone and body.phone.consent else None,
        channels={kind: sorted(set(channels)) for kind, channels in body.channels.items()},
        quiet_start=body.quiet_hours.start if body.quiet_hours else None,
        quiet_end=body.quiet_hours.end if body.quiet_hours else None,
    )
    sessions = notifications.context.session_factory
    try:
        await inbox.change_preferences(sessions, notifications.box, reader, change)
    except inbox.PreferenceRejected as exc:
        raise FieldError(exc.field, str(exc)) from exc
    return preferences_out(
        await inbox.read_preferences(sessions, notifications.box, notifications.texts, reader.person_id)
    )
