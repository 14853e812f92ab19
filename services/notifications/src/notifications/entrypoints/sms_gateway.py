"""Development only (QOSYM_DEV_MODE): an SMS gateway stand-in that delivers each text to the person's inbox.

It speaks the gateway contract the registry's real HTTP client uses (``POST {base}/v1/messages``), so the
local stack exercises that client end to end. The text (a one-time code) is never logged.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Header, status
from sqlalchemy.exc import SQLAlchemyError

from notifications.entrypoints.routes import NotificationsDep
from notifications.entrypoints.schemas import SmsAcceptedOut, SmsIn
from notifications.service_layer.gateway import deliver_sms
from qosym_chassis.errors import FieldError, Problem, Unauthorized

SMS_GATEWAY_PREFIX = "/dev/sms-gateway"
sms_gateway_router = APIRouter(prefix=SMS_GATEWAY_PREFIX, tags=["development"])


@sms_gateway_router.post(
    "/v1/messages", status_code=status.HTTP_202_ACCEPTED, responses={401: {}, 422: {}}, response_model=SmsAcceptedOut
)
async def accept_sms(
    body: SmsIn,
    notifications: NotificationsDep,
    authorization: Annotated[str | None, Header()] = None,
) -> SmsAcceptedOut:
    """Store the text as an `sms` message in the inbox of the person named by `reference`."""
    expected = notifications.settings.sms_gateway_token
    if expected and not hmac.compare_digest(authorization or "", f"Bearer {expected}"):
        raise Unauthorized("a valid gateway token is required")
    if body.reference is None:
        raise FieldError("reference", "this stand-in delivers to an inbox: send the person id", code="missing")
    context = notifications.context
    try:
        message_id = await deliver_sms(context.session_factory, context.clock, body.reference, body.text)
    except SQLAlchemyError:
        # from None: the database error's message carries the statement's parameters, i.e. the code
        raise Unavailable("the inbox cannot be written right now; try again") from None
    return SmsAcceptedOut(id=message_id)


class Unavailable(Problem):
    status, title, type = 503, "Service unavailable", "unavailable"
