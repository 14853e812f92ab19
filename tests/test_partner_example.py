"""The example partner (deploy/examples/partner/partner.py) as a partner would run it: a restart keeps refusing a
replayed webhook it accepted before, because the ids it accepted are read back from its own log of accepted events."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest
from standardwebhooks import Webhook
from starlette.testclient import TestClient

pytestmark = pytest.mark.unit
EXAMPLE = Path(__file__).resolve().parents[1] / "deploy" / "examples" / "partner" / "partner.py"
SECRET = "whsec_" + base64.b64encode(os.urandom(24)).decode()


def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("example_partner", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def signed(webhook_id: str, body: bytes) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(SECRET).sign(webhook_id, now, body.decode()),
        "content-type": "application/json",
    }


def test_a_restarted_partner_still_refuses_a_webhook_it_accepted_before(tmp_path: Path) -> None:
    log = tmp_path / "received.jsonl"
    body = json.dumps({"type": "registry.ChildRegistered", "data": {"child_id": "c1"}}).encode()
    with TestClient(example().create_app(SECRET, log)) as first:
        assert first.post("/webhooks", content=body, headers=signed("msg_1", body)).status_code == 204
        assert first.post("/webhooks", content=body, headers=signed("msg_1", body)).status_code == 409
    with TestClient(example().create_app(SECRET, log)) as restarted:  # the process started again
        assert restarted.post("/webhooks", content=body, headers=signed("msg_1", body)).status_code == 409
        assert restarted.post("/webhooks", content=body, headers=signed("msg_2", body)).status_code == 204
    assert [json.loads(line)["webhook_id"] for line in log.read_text().splitlines()] == ["msg_1", "msg_2"]
