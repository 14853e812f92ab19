"""Standard Webhooks signatures (https://www.standardwebhooks.com/): what a delivery's headers are.

``webhook-signature`` is ``v1,`` + base64(HMAC-SHA256(secret, "<webhook-id>.<webhook-timestamp>.<body>")), the
timestamp in whole seconds since the epoch; the secret is ``whsec_`` + base64 of 32 random bytes, generated per
subscription. The signing itself is the ``standardwebhooks`` package's, so a partner using any Standard Webhooks
library verifies what we send.
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime
from math import floor

from standardwebhooks import Webhook, WebhookVerificationError

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32

__all__ = ["SECRET_PREFIX", "WebhookVerificationError", "headers", "new_secret", "sign", "verify"]


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def sign(secret: str, webhook_id: str, timestamp: datetime, body: bytes) -> str:
    return Webhook(secret).sign(webhook_id, timestamp, body)


def headers(secret: str, webhook_id: str, timestamp: datetime, body: bytes) -> dict[str, str]:
    """The request headers of one attempt (a retry is signed again, with its own timestamp)."""
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(floor(timestamp.astimezone(UTC).timestamp())),
        "webhook-signature": sign(secret, webhook_id, timestamp, body),
        "content-type": "application/json",
    }


def verify(secret: str, body: bytes, request_headers: dict[str, str]) -> None:
    """Raises WebhookVerificationError for a missing header, a timestamp more than 5 minutes off, or a bad signature."""
    Webhook(secret).verify(body, request_headers, json_parse=False)
