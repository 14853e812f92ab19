"""Development only (QOSYM_DEV_MODE): an SMS gateway stand-in that delivers each text to the person's inbox.

It speaks the gateway contract the registry's real HTTP client uses (``POST {base}/v1/messages``), so the
local stack exercises that client end to end. The text (a one-time code) is never logged.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, status

from notifications.entrypoints.dependencies import Deps
from notifications.entrypoints.schemas import SmsAcceptedOut, SmsIn
from notifications.service_layer.sms_gateway import deliver_sms

SMS_GATEWAY_PREFIX = "/dev/sms-gateway"
router = APIRouter(prefix=SMS_GATEWAY_PREFIX, tags=["development"])


@router.post(
    "/v1/messages", status_code=status.HTTP_202_ACCEPTED, responses={401: {}, 422: {}}, response_model=SmsAcceptedOut
)
async def accept_sms(body: SmsIn, deps: Deps, authorization: Annotated[str | None, Header()] = None) -> SmsAcceptedOut:
    """Store the text as an `sms` message in the inbox of the person named by `reference`."""
    return SmsAcceptedOut(id=await deliver_sms(deps, authorization, body.reference, body.text))
