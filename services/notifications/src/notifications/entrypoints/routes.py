"""Notifications HTTP routes."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi_pagination.ext.sqlalchemy import apaginate
from fastapi_pagination.limit_offset import LimitOffsetPage

from notifications.adapters import repository
from notifications.bootstrap import Notifications
from notifications.entrypoints.schemas import MessageOut
from notifications.service_layer import handlers
from qosym_chassis.auth import Principal, require_roles
from qosym_chassis.errors import NotFound, Unprocessable

router = APIRouter()


def get_notifications(request: Request) -> Notifications:
    notifications: Notifications = request.app.state.notifications
    return notifications


NotificationsDep = Annotated[Notifications, Depends(get_notifications)]
Parent = Annotated[Principal, Depends(require_roles("parent"))]


def _person_id(principal: Principal) -> UUID:
    try:
        return UUID(principal.subject)
    except ValueError as exc:
        raise Unprocessable("the token's subject is not a person id") from exc


@router.get("/v1/inbox", tags=["inbox"])
async def list_inbox(parent: Parent, notifications: NotificationsDep) -> LimitOffsetPage[MessageOut]:
    """The caller's messages, newest first."""
    # unique=False: rows are distinct already, and JSONB values are unhashable for SQLAlchemy's unique()
    async with notifications.context.session_factory() as session:
        page: LimitOffsetPage[MessageOut] = await apaginate(
            session, repository.inbox_query(_person_id(parent)), unique=False
        )
    return page


@router.post("/v1/inbox/{message_id}/read", tags=["inbox"], responses={404: {}})
async def mark_read(message_id: UUID, parent: Parent, notifications: NotificationsDep) -> MessageOut:
    """Mark one of the caller's messages read (404 for anyone else's, the same as for none)."""
    message = await handlers.mark_read(notifications.context.session_factory, message_id, _person_id(parent))
    if message is None:
        raise NotFound("no such message")
    return MessageOut(
        id=message.id,
        kind=message.kind,
        subject_id=message.subject_id,
        payload=message.payload,
        created_at=message.created_at,
        read_at=message.read_at,
    )
