"""Development only (QOSYM_DEV_MODE): an SMS gateway stand-in that delivers each text to the person's inbox.

It speaks the gateway contract the registry's real HTTP client uses (``POST {base}/v1/messages``), so the
local stack exercises that client end to end. The text (a one-time code) is never logged. ``GET`` of the same path
is the local stack's phone: the newest texts received, which the portal's code page shows in development.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, status

from notifications.entrypoints.dependencies import Deps
from notifications.entrypoints.schemas import SmsAcceptedOut, SmsIn, SmsTextOut
from notifications.service_layer.sms_gateway import deliver_sms, latest_texts
from qosym_chassis.inputs import Limit, OffsetPage

SMS_GATEWAY_PREFIX = "/dev/sms-gateway"
router = APIRouter(prefix=SMS_GATEWAY_PREFIX, tags=["development"])


@router.post(
    "/v1/messages", status_code=status.HTTP_202_ACCEPTED, responses={401: {}, 422: {}}, response_model=SmsAcceptedOut
)
async def accept_sms(body: SmsIn, deps: Deps, authorization: Annotated[str | None, Header()] = None) -> SmsAcceptedOut:
    """Store the text as an `sms` message in the inbox of the person named by `reference`."""
    return SmsAcceptedOut(id=await deliver_sms(deps, authorization, body.reference, body.text))


@router.get("/v1/messages", responses={422: {}})
async def local_phone(deps: Deps, limit: Limit = 5) -> OffsetPage[SmsTextOut]:
    """The local stack's phone: the newest texts this stand-in received, newest first (no phone numbers: they are
    never kept). The portal's code page shows them in development, where nobody has the demo people's phones."""
    texts, total = await latest_texts(deps, limit)
    return OffsetPage[SmsTextOut](
        items=[SmsTextOut(text=text, received_at=at) for text, at in texts], total=total, limit=limit, offset=0
    )
