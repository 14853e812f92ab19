"""Events written by set-based SQL are exactly what the contracts say: every outbox row parses as its event class,
under its topic and key (consumers in payments, notifications and catalog parse them with these models)."""

from __future__ import annotations

import json
import re

import pytest

from attendance.service_layer import confirmations, risks
from qosym_chassis.db import make_engine, make_session_factory
from qosym_contracts.attendance import (
    AttendanceConfirmedV1,
    AttendanceDisputedV1,
    AttendanceSubmittedV1,
    DisputeResolvedV1,
    RiskFlagRaisedV1,
)

from .support import OCTOBER, api_at, auth, deps_of, fetch, local, world

pytestmark = pytest.mark.component
TRACEPARENT = re.compile(r"00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")
CLASSES = {
    c.model_fields["event_type"].default: c
    for c in (AttendanceSubmittedV1, AttendanceConfirmedV1, AttendanceDisputedV1, DisputeResolvedV1, RiskFlagRaisedV1)
}


async def test_every_outbox_row_is_a_valid_event_with_its_topic_and_key(
    service_db, consumer, api_client, token
) -> None:
    w = await world(service_db, consumer)
    programme_id = await w.programme()
    kids = [await w.enrol(programme_id) for _ in range(3)]
    staff = auth(token("provider_staff", scope={"provider": str(w.provider_id)}))
    base = f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}"
    async with api_at(api_client, w.url, local(2026, 11, 2, 10)) as client:
        await client.put(
            "/v1/regions/astana/attendance-rules",
            json={"no_answer": "deemed_confirmed"},
            headers=auth(token("administrator")),
        )
        marks = [{"enrolment_id": str(kids[0][0]), "date": "2026-10-26", "status": "attended", "reason": "cup final"}]
        await client.put(f"{base}/marks", json={"all_scheduled": "attended", "marks": marks}, headers=staff)
        await client.post(f"{base}/submit", json={}, headers=staff)
        sheets = {t["child_id"]: t["id"] for t in (await client.get("/v1/timesheets", headers=staff)).json()["items"]}
        (_, c1, g1), (_, c2, g2), _ = kids
        await client.post(f"/v1/timesheets/{sheets[str(c1)]}/confirm", headers=auth(token("parent", str(g1))))
        opened = await client.post(
            f"/v1/timesheets/{sheets[str(c2)]}/dispute",
            json={"comment": "not held", "sessions": [{"date": "2026-10-07", "claim": "not_held"}]},
            headers=auth(token("parent", str(g2))),
        )
        await client.post(
            f"/v1/disputes/{opened.json()['dispute_id']}/resolve",
            json={"rulings": [{"date": "2026-10-07", "ruling": "guardian_upheld"}], "comment": "ok"},
            headers=auth(token("administrator")),
        )
    engine = make_engine(w.url, application_name="test")
    try:
        sessions = make_session_factory(engine)
        await confirmations.close_windows(deps_of(sessions), local(2026, 11, 6, 1))
        await risks.scan(deps_of(sessions), local(2026, 11, 6, 1), period=OCTOBER)
    finally:
        await engine.dispose()

    rows = await fetch(w.url, "SELECT event_id, event_type, topic, msg_key, payload, headers FROM outbox ORDER BY id")
    seen = []
    for row in rows:
        # the set-based SQL stages each row with its stager's trace context, as outbox.add_events does
        assert TRACEPARENT.fullmatch(json.loads(row["headers"] or "{}").get("traceparent", "")), row["event_type"]
        event = CLASSES[row["event_type"]].model_validate(json.loads(row["payload"]))
        assert (event.event_id, event.topic, event.message_key) == (row["event_id"], row["topic"], row["msg_key"])
        seen.append(row["event_type"])
    assert sorted(set(seen)) == sorted(CLASSES)
    assert seen.count("attendance.AttendanceConfirmed") == 2  # the guardian's and the deemed one
    resolved = next(json.loads(r["payload"]) for r in rows if r["event_type"] == "attendance.DisputeResolved")
    assert (resolved["planned_sessions"], resolved["payable_sessions"]) == (7, 6)  # not held: not payable by default
