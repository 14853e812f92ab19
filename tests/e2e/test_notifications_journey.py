"""The notifications issue's done-when journey, tried as a new user would on ``qosym up``.

A parent gives an e-mail address with consent and subscribes to their live stream (a browser's way: a single-use
ticket, then ``GET /v1/inbox/stream?ticket=``). They apply in a round, win a voucher and enrol their child: each
step arrives on the open stream as it happens and is listed in the inbox, and the e-mails land in the local mail
catcher (``<home>/mail/*.eml``). The provider's staff see the enrolment request in their own inbox. Then
``qosym replay --since 1h`` re-publishes every service's recent events: notifications consumes them all again
and sends nothing twice (inbox, deliveries, mail files and the stream stay as they were).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.journeys import award_vouchers, enrol, new_family, publish_programme, verified_provider
from tests.support.stack_ops import db_value, drained
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e
JOURNEY = ["application_received", "round_closed", "voucher_awarded", "enrolment_confirmed"]
SUBSCRIBED_TOPICS = [
    "registry.child.v1",
    "registry.guardianship.v1",
    "allocation.round.v1",
    "allocation.application.v1",
    "allocation.voucher.v1",
    "catalog.provider.v1",
    "catalog.programme.v1",
    "catalog.enrolment.v1",
    "attendance.timesheet.v1",
    "attendance.risk.v1",
    "payments.payable.v1",
    "payments.batch.v1",
    "payments.budget.v1",
]


class LiveStream:
    """A client subscribed to the stream in a thread, recording each event with the moment it arrived.

    It opens the stream as a browser does (a single-use ticket) and, like a browser's EventSource, reconnects
    when the connection drops, sending ``Last-Event-ID`` (with the bearer token: the ticket is used up), so the
    server replays what it missed. ``ready`` is set by the server's ``ready`` event, sent once it is listening.
    """

    def __init__(self, base: str, ticket_url: str, headers: dict[str, str]) -> None:
        self.base = base
        self.url = f"{base}{ticket_url}"
        self.headers = headers
        self.events: list[dict[str, Any]] = []
        self.ready = threading.Event()
        self.reconnects = 0
        self._closed = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(10, read=None))
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        url, headers = self.url, {}
        while not self._closed.is_set():
            with contextlib.suppress(httpx.HTTPError, RuntimeError, AssertionError):  # dropped, or closed by the test
                self._read(url, headers)
            if self._closed.is_set():
                return
            self.reconnects += 1
            last = self.events[-1]["seq"] if self.events else None
            url = f"{self.base}/v1/inbox/stream"
            headers = {**self.headers, **({"Last-Event-ID": str(last)} if last is not None else {})}
            self._closed.wait(1)  # the server's retry hint is 3 s; a browser waits too

    def _read(self, url: str, headers: dict[str, str]) -> None:
        event: dict[str, Any] = {}
        with self._client.stream("GET", url, headers=headers) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if line.startswith(":"):
                    continue
                if line:
                    name, _, value = line.partition(":")
                    event[name] = value.removeprefix(" ")
                    continue
                if event.get("event") == "ready":
                    self.ready.set()
                elif event.get("event") == "message":
                    self.events.append({**json.loads(event["data"]), "arrived": time.monotonic()})
                event = {}

    def kinds(self) -> list[str]:
        return [e["kind"] for e in self.events]

    def close(self) -> None:
        self._closed.set()
        self._client.close()


def mails_to(home: Path, address: str) -> list[Any]:
    found = []
    for path in sorted((home / "mail").glob("*.eml")):
        mail = message_from_bytes(path.read_bytes(), policy=policy.default)
        if mail["To"] == address:
            found.append(mail)
    return found


def consumed_total(stack) -> float:
    port = stack.state.process("notifications", "consumers").port
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", follow_redirects=True, timeout=5).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "qosym_events_consumed"
        for sample in family.samples
        if sample.name == "qosym_events_consumed_total"
    )


def replayable(stack, since_sql: str) -> int:
    """Published rows of the last hour on the topics notifications consumes, across every service's outbox."""
    return sum(
        db_value(
            stack,
            service,
            f"select count(*) from outbox where created_at >= {since_sql} and topic = any($1::text[])",
            SUBSCRIBED_TOPICS,
        )
        for service in ("registry", "allocation", "catalog", "attendance", "payments")
    )


def test_a_parent_hears_each_step_live_in_the_inbox_and_by_email_and_a_replay_sends_nothing_twice(
    api, token, running_stack
):
    notifications = api("notifications")
    family = new_family(running_stack, token)
    child = family.children[0]
    address = f"parent-{uuid.uuid4().hex[:8]}@example.kz"
    chosen = notifications.put(
        "/v1/me/preferences",
        json={"language": "en", "email": {"address": address, "consent": True}},
        headers=family.headers,
    )
    assert chosen.status_code == 200, chosen.text

    ticket = notifications.post("/v1/inbox/stream-tickets", headers=family.headers)
    assert ticket.status_code == 201, ticket.text
    stream = LiveStream(running_stack.api_url("notifications"), ticket.json()["stream_url"], family.headers)
    try:
        assert stream.ready.wait(15), "the stream did not open"

        # apply, the round closes and allocates: each step reaches the open stream
        award_vouchers(running_stack, token, [family])
        allocated_at = time.monotonic()
        eventually(lambda: "voucher_awarded" in stream.kinds(), timeout_s=30)

        # enrol with a provider's programme: the confirmation reaches the stream too
        provider = verified_provider(running_stack, token)
        programme = publish_programme(running_stack, provider)
        confirmed = enrol(running_stack, family, child, str(programme["id"]))
        eventually(lambda: set(JOURNEY) <= set(stream.kinds()), timeout_s=30)

        live = [e for e in stream.events if e["kind"] in JOURNEY]
        # every step exactly once; the round's close and the voucher come on two topics, which the consumer may
        # read in either order (Kafka orders a key within one topic only), so only what causality fixes is checked
        assert sorted(e["kind"] for e in live) == sorted(JOURNEY)
        assert live[-1]["kind"] == "enrolment_confirmed"  # the child enrolled once the voucher had reached the stream
        assert all(e["payload"]["child_id"] == child.id for e in live)
        awarded = next(e for e in live if e["kind"] == "voucher_awarded")
        assert awarded["arrived"] >= allocated_at - 5 and awarded["subject_id"] == child.voucher_id
        enrolled = next(e for e in live if e["kind"] == "enrolment_confirmed")
        assert enrolled["subject_id"] == confirmed["id"]
        # the programme's title as catalog's ProgrammePublished carried it (catalog may not send titles yet)
        title = db_value(
            running_stack,
            "notifications",
            "select title->>'en' from programme where programme_id = $1",
            uuid.UUID(str(programme["id"])),
        )
        assert (title or "the programme") in enrolled["body"]
        assert f"/v1/applications/{awarded['payload']['application_id']}/explanation" in awarded["body"]

        # the inbox lists every step, newest first, with the same ids the stream carried
        inbox = notifications.get("/v1/inbox", params={"limit": 50}, headers=family.headers).json()["items"]
        listed = {m["kind"]: m for m in inbox}
        assert set(JOURNEY) | {"child_registered"} <= set(listed)
        assert [m["id"] for m in live] == [listed[m["kind"]]["id"] for m in live]
        staff_inbox = notifications.get("/v1/inbox", headers=provider.headers).json()["items"]
        assert "enrolment_requested" in [m["kind"] for m in staff_inbox]

        # e-mails arrive in the local mail catcher, in the parent's language, with the explanation link
        wanted = {"Application received", "Applications are closed", "Voucher awarded", "Enrolment confirmed"}

        def mails_received() -> list[Any] | None:
            mails = mails_to(running_stack.home, address)
            return mails if wanted <= {m["Subject"] for m in mails} else None

        mails = eventually(mails_received, timeout_s=30)
        voucher_mail = next(m for m in mails if m["Subject"] == "Voucher awarded")
        assert "/explanation" in voucher_mail.get_content()

        # replay the last hour of every service's events: notifications consumes them again and sends nothing
        parent_messages = f"select count(*) from inbox_message where audience = 'person:{family.parent_id}'"
        deliveries = f"select count(*) from delivery where person_id = '{family.parent_id}'"
        before = (
            db_value(running_stack, "notifications", parent_messages),
            db_value(running_stack, "notifications", deliveries),
            len(mails_to(running_stack.home, address)),
            len(stream.events),
        )
        consumed_before = consumed_total(running_stack)
        expected = replayable(running_stack, "now() - interval '1 hour'")
        replayed = subprocess.run(
            [sys.executable, "-m", "qosym_cli.main", "replay", "--since", "1h", "--home", str(running_stack.home)],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "COLUMNS": "300"},
        )
        assert replayed.returncode == 0, replayed.stdout + replayed.stderr
        eventually(lambda: consumed_total(running_stack) >= consumed_before + expected, timeout_s=180)
        # the delivery job has settled everything due for the parent: a delivery the replay planned would be sent
        due = (
            f"select count(*) from delivery where person_id = '{family.parent_id}'"
            " and status = 'pending' and not_before <= now()"
        )
        eventually(lambda: db_value(running_stack, "notifications", due) == 0, timeout_s=60)
        after = (
            db_value(running_stack, "notifications", parent_messages),
            db_value(running_stack, "notifications", deliveries),
            len(mails_to(running_stack.home, address)),
            len(stream.events),
        )
        assert after == before
    finally:
        stream.close()
        drained(running_stack)  # the other services consume the replay too; the next journey must not wait behind it
