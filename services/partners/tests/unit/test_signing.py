"""Standard Webhooks signatures: the header is v1,base64(HMAC-SHA256(secret, id.timestamp.body)); what the example
partner and any Standard Webhooks library verify, a forged or stale one does not."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from partners.domain import signing

pytestmark = pytest.mark.unit
BODY = b'{"type":"allocation.VoucherAwarded","data":{}}'


def test_a_secret_is_32_random_bytes_with_the_whsec_prefix() -> None:
    one, two = signing.new_secret(), signing.new_secret()
    assert one.startswith("whsec_") and one != two
    assert len(base64.b64decode(one.removeprefix("whsec_"))) == 32


def test_the_signature_is_hmac_sha256_of_id_timestamp_and_body() -> None:
    secret = signing.new_secret()
    at = datetime(2026, 12, 4, 1, 2, 3, tzinfo=UTC)
    headers = signing.headers(secret, "msg_1", at, BODY)
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = hmac.new(key, f"msg_1.{int(at.timestamp())}.".encode() + BODY, hashlib.sha256).digest()
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == str(int(at.timestamp()))
    assert headers["webhook-signature"] == "v1," + base64.b64encode(expected).decode()


def test_a_fresh_signed_message_verifies() -> None:
    secret = signing.new_secret()
    signing.verify(secret, BODY, signing.headers(secret, "msg_1", datetime.now(UTC), BODY))


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda h, b: (h, b + b" "), id="body changed"),
        pytest.param(lambda h, b: ({**h, "webhook-id": "msg_2"}, b), id="id changed"),
        pytest.param(lambda h, b: ({**h, "webhook-timestamp": str(int(h["webhook-timestamp"]) + 1)}, b), id="time"),
        pytest.param(
            lambda h, b: ({**h, "webhook-signature": "v1," + base64.b64encode(b"x" * 32).decode()}, b), id="signature"
        ),
        pytest.param(lambda h, b: ({k: v for k, v in h.items() if k != "webhook-signature"}, b), id="no signature"),
    ],
)
def test_a_forged_message_is_refused(forge) -> None:
    secret = signing.new_secret()
    headers, body = forge(signing.headers(secret, "msg_1", datetime.now(UTC), BODY), BODY)
    with pytest.raises(signing.WebhookVerificationError):
        signing.verify(secret, body, headers)


def test_another_secret_does_not_verify() -> None:
    headers = signing.headers(signing.new_secret(), "msg_1", datetime.now(UTC), BODY)
    with pytest.raises(signing.WebhookVerificationError):
        signing.verify(signing.new_secret(), BODY, headers)


@pytest.mark.parametrize("shift", [timedelta(minutes=-6), timedelta(minutes=6)], ids=["stale", "future"])
def test_a_timestamp_outside_five_minutes_is_refused(shift: timedelta) -> None:
    secret = signing.new_secret()
    headers = signing.headers(secret, "msg_1", datetime.now(UTC) + shift, BODY)
    with pytest.raises(signing.WebhookVerificationError):
        signing.verify(secret, BODY, headers)
