"""Development SMS gateway stand-in: a text lands in the person's inbox (never in a log)."""

from __future__ import annotations

import hmac
from uuid import UUID, uuid4

from sqlalchemy.exc import SQLAlchemyError

from notifications.domain.messages import sms
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
