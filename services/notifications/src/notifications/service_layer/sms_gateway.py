"""Development SMS gateway stand-in: a text lands in the person's inbox (never in a log)."""

from __future__ import annotations

import hmac
from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy.exc import SQLAlchemyError

from notifications.adapters import messages_repository
from notifications.domain.messages import SMS, sms
from notifications.service_layer.dependencies import Dependencies
from notifications.service_layer.fanout import store
from qosym_chassis.errors import FieldError, Unauthorized, Unavailable


async def deliver_sms(deps: Dependencies, authorization: str | None, person_id: UUID | None, text: str) -> UUID:
    """Store the text as an ``sms`` message in the inbox of the person named by the gateway's ``reference``."""
    expected = deps.sms_gateway_token
    if expected and not hmac.compare_digest(authorization or "", f"Bearer {expected}"):
        raise Unauthorized("a valid gateway token is required")
    if person_id is None:
        raise FieldError("reference", "this stand-in delivers to an inbox: send the person id", code="missing")
    message_id = uuid4()
    try:
        async with deps.sessions() as session, session.begin():
            await store(session, sms(person_id, message_id, text), deps.clock.now())
    except SQLAlchemyError:
        # from None: the database error's message carries the statement's parameters, i.e. the code
        raise Unavailable("the inbox cannot be written right now; try again") from None
    return message_id


async def latest_texts(deps: Dependencies, limit: int) -> tuple[list[tuple[str, datetime]], int]:
    """The local stack's phone: the newest texts this stand-in delivered (to anyone), newest first, and how many
    it delivered in all. Development only: it is how a newcomer without a phone reads a one-time code."""
    async with deps.sessions() as session:
        rows, total = await messages_repository.latest_texts(session, SMS, limit)
    return [(str(r["text"]), r["created_at"]) for r in rows], total
