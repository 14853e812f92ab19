"""A partner that receives Qosym's webhooks: verifies each signature and timestamp, refuses a forged or replayed one.

    PARTNER_WEBHOOK_SECRET=whsec_... python partner.py --port 9000 --log received.jsonl

POST /webhooks answers
  204 accepted (the event is appended to the --log file as one JSON line: webhook-id, event type, event);
  400 a header missing or malformed, or a timestamp more than 5 minutes from this machine's clock (a stale copy,
      or a clock to fix);
  401 the signature does not verify with the secret (forged, or signed with another subscription's secret);
  409 this webhook-id was accepted before (a replayed copy: deduplicate on webhook-id); the ids accepted are read
      back from the --log file at start, so a restart keeps refusing them.
Qosym retries anything but a 2xx, and dead-letters after its last attempt; a 409 is final for you, not for Qosym,
so answer it only to what you have already processed. Only this file and ``standardwebhooks``, ``starlette`` and
``uvicorn`` are needed: nothing of the Qosym repository.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from standardwebhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOLERANCE_S = 5 * 60


def accepted_ids(log: Path) -> set[str]:
    """The webhook-ids of every event in the log of accepted events (empty when there is no log yet)."""
    if not log.exists():
        return set()
    return {json.loads(line)["webhook_id"] for line in log.read_text(encoding="utf-8").splitlines() if line.strip()}


def create_app(secret: str, log: Path) -> Starlette:
    verifier = Webhook(secret)
    seen = accepted_ids(log)  # a restart keeps refusing what was accepted before (a real partner: its database)
    lock = threading.Lock()

    def refuse(status: int, reason: str) -> JSONResponse:
        print(f"refused {status}: {reason}", file=sys.stderr, flush=True)
        return JSONResponse({"error": reason}, status_code=status)

    async def receive(request: Request) -> Response:
        body = await request.body()
        webhook_id = request.headers.get("webhook-id", "")
        stamp = request.headers.get("webhook-timestamp", "")
        if not webhook_id or not stamp.isdigit() or not request.headers.get("webhook-signature"):
            return refuse(400, "missing or malformed webhook headers")
        if abs(datetime.now(UTC).timestamp() - int(stamp)) > TOLERANCE_S:
            return refuse(400, "timestamp outside the 5-minute tolerance")
        try:
            verifier.verify(body, dict(request.headers), json_parse=False)
        except WebhookVerificationError as exc:
            return refuse(401, f"signature: {exc}")
        payload = json.loads(body)
        line = {"webhook_id": webhook_id, "type": payload.get("type"), "data": payload.get("data")}
        with lock:  # the check and the record together: two copies at once are one accepted, one refused
            if webhook_id in seen:
                return refuse(409, f"webhook-id {webhook_id} was accepted before")
            with log.open("a", encoding="utf-8") as out:
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
                out.flush()
                os.fsync(out.fileno())
            seen.add(webhook_id)
        print(f"accepted {webhook_id} {payload.get('type')}", flush=True)
        return Response(status_code=204)

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/webhooks", receive, methods=["POST"]), Route("/health", health)])


def main() -> None:
    parser = argparse.ArgumentParser(description="an example partner receiving Qosym's webhooks")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--log", type=Path, default=Path("received.jsonl"), help="accepted events, one JSON a line")
    args = parser.parse_args()
    secret = os.environ.get("PARTNER_WEBHOOK_SECRET", "")
    if not secret.startswith("whsec_"):
        parser.error("set PARTNER_WEBHOOK_SECRET to the subscription's secret (whsec_…)")
    uvicorn.run(create_app(secret, args.log), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
