"""Issue 19 item 7's done-when for webhooks, on the real stack: a partner's service account (registry's client
credentials) subscribes two endpoints to ``registry.ChildRegistered``; the example partner
(``deploy/examples/partner/partner.py``, a real HTTP server process) receives the signed webhook of a child a parent
really registers, and refuses a forged, a stale and a replayed copy with 4xx. The second endpoint is down: its
delivery is retried, dead-lettered, and once the endpoint is up, replayed from the dead-letter list and accepted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from qosym_cli.ports import free_port
from qosym_cli.stack import LocalStack
from tests.support.journeys import bearer, new_family
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "deploy" / "examples" / "partner" / "partner.py"


class ExamplePartner:
    """``partner.py`` as its own process on a port, with the subscription's secret; its accepted events are lines
    of ``log``."""

    def __init__(self, port: int, secret: str, folder: Path) -> None:
        self.url = f"http://127.0.0.1:{port}/webhooks"
        self.log = folder / f"received-{port}.jsonl"
        self.output = (folder / f"partner-{port}.out").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, str(EXAMPLE), "--port", str(port), "--log", str(self.log)],
            env={**os.environ, "PARTNER_WEBHOOK_SECRET": secret},
            stdout=self.output,
            stderr=subprocess.STDOUT,
        )
        eventually(self._up, timeout_s=60)

    def _up(self) -> bool:
        assert self.process.poll() is None, "the example partner exited"
        try:
            return httpx.get(self.url.replace("/webhooks", "/health"), timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def received(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.output.close()


@pytest.fixture
def partners(tmp_path: Path) -> Iterator[Callable[[int, str], ExamplePartner]]:
    started: list[ExamplePartner] = []

    def start(port: int, secret: str) -> ExamplePartner:
        started.append(ExamplePartner(port, secret, tmp_path))
        return started[-1]

    yield start
    for partner in started:
        partner.stop()


def partner_token(registry: httpx.Client, admin: dict[str, str]) -> dict[str, str]:
    """A partner's service account, and its access token through the OAuth2 client-credentials grant."""
    account = registry.post("/v1/service-accounts", json={"name": "e2e bank"}, headers=admin)
    assert account.status_code == 201, account.text
    granted = registry.post(
        "/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": account.json()["client_id"],
            "client_secret": account.json()["client_secret"],
        },
    )
    assert granted.status_code == 200, granted.text
    return bearer(granted.json()["access_token"])


def sign(secret: str, webhook_id: str, at: datetime, body: bytes) -> dict[str, str]:
    from standardwebhooks import Webhook

    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, at, body),
        "content-type": "application/json",
    }


def test_a_partner_receives_signed_webhooks_refuses_forgeries_and_replays_a_dead_letter(
    running_stack: LocalStack, token: Callable[..., str], api: Callable[[str], httpx.Client], partners: Any
) -> None:
    registry, hooks = api("registry"), api("partners")
    me = partner_token(registry, bearer(token("administrator")))
    taken: set[int] = set()
    up_port, down_port = free_port(taken), free_port(taken)

    def subscribe(port: int) -> dict[str, Any]:
        made = hooks.post(
            "/v1/webhooks/subscriptions",
            json={"url": f"http://127.0.0.1:{port}/webhooks", "event_types": ["registry.ChildRegistered"]},
            headers=me,
        )
        assert made.status_code == 201, made.text
        return dict(made.json())

    up, down = subscribe(up_port), subscribe(down_port)
    receiver = partners(up_port, up["secret"])

    family = new_family(running_stack, token)  # the real action: a parent registers a child
    child_id = family.children[0].id

    def received_child() -> list[dict[str, Any]]:
        return [r for r in receiver.received() if r["data"].get("child_id") == child_id]

    [webhook] = eventually(received_child, timeout_s=120)
    assert webhook["type"] == "registry.ChildRegistered"
    event_id = webhook["data"]["event_id"]
    log = hooks.get("/v1/webhooks/deliveries", params={"subscription_id": up["subscription_id"]}, headers=me).json()
    [delivered] = [d for d in log["items"] if d["event_id"] == event_id]
    assert delivered["status"] == "delivered" and delivered["delivery_id"] == webhook["webhook_id"]

    # forged, stale and replayed copies are refused by the example partner
    body = json.dumps({"type": "registry.ChildRegistered", "data": webhook["data"]}).encode()
    now = datetime.now(UTC)
    forged = sign("whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=", "forged-1", now, body)
    assert httpx.post(receiver.url, content=body, headers=forged).status_code == 401
    tampered = {**sign(up["secret"], "tampered-1", now, body), "webhook-id": "tampered-2"}
    assert httpx.post(receiver.url, content=body, headers=tampered).status_code == 401
    stale = sign(up["secret"], "stale-1", now - timedelta(minutes=10), body)
    assert httpx.post(receiver.url, content=body, headers=stale).status_code == 400
    replayed = sign(up["secret"], webhook["webhook_id"], now, body)
    assert httpx.post(receiver.url, content=body, headers=replayed).status_code == 409
    assert len(received_child()) == 1

    # the endpoint that was down: retried, dead-lettered, then replayed once it is up
    def dead_letter() -> list[dict[str, Any]]:
        page = hooks.get(
            "/v1/webhooks/dead-letters", params={"subscription_id": down["subscription_id"]}, headers=me
        ).json()
        return [d for d in page["items"] if d["event_id"] == event_id]

    [letter] = eventually(dead_letter, timeout_s=120)
    assert letter["attempts"] == 3 and letter["last_status_code"] is None and letter["last_error"] == "ConnectError"
    late = partners(down_port, down["secret"])
    replay = hooks.post(f"/v1/webhooks/deliveries/{letter['delivery_id']}/replay", headers=me)
    assert replay.status_code == 202, replay.text
    [again] = eventually(lambda: [r for r in late.received() if r["data"].get("child_id") == child_id], timeout_s=60)
    assert again["webhook_id"] == letter["delivery_id"]
    done = hooks.get(f"/v1/webhooks/deliveries/{letter['delivery_id']}", headers=me).json()
    assert done["status"] == "delivered"
    assert dead_letter() == []

    # another partner sees none of it
    other = partner_token(registry, bearer(token("administrator")))
    assert hooks.get(f"/v1/webhooks/deliveries/{letter['delivery_id']}", headers=other).status_code == 404
    assert hooks.post(f"/v1/webhooks/deliveries/{letter['delivery_id']}/replay", headers=other).status_code == 404
