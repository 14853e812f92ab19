"""Region rules: documented defaults, set by administrators, applied to months by the revision they were submitted
under; the confirmation deadline deems months confirmed or lets them lapse, by the region's no-answer rule."""

from __future__ import annotations

import pytest

from attendance.service_layer import confirmations
from qosym_chassis.db import make_engine, make_session_factory

from .support import OCTOBER, api_at, auth, deps_of, fetch, local, outbox, world

pytestmark = pytest.mark.component
NOV_2 = local(2026, 11, 2, 10)
RULES = "/v1/regions/astana/attendance-rules"


async def test_a_configured_region_has_the_documented_defaults(service_db, consumer, api_client, token) -> None:
    w = await world(service_db, consumer)
    async with api_client("attendance", w.url) as client:
        response = await client.get(RULES, headers=auth(token("provider_staff")))
        unknown = await client.get("/v1/regions/atlantis/attendance-rules", headers=auth(token("parent")))
    body = response.json()
    assert (body["revision"], body["source"], body["set_by"]) == (0, "default", None)
    assert body["rules"] | {"closure_days": []} == {
        "submission_deadline_day": 3,
        "confirmation_deadline_day": 5,
        "late_confirmation_days": 3,
        "no_answer": "not_payable",
        "absent_sessions_payable": False,
        "provider_cancelled": "not_payable",
        "min_attended_sessions": 1,
        "min_attendance_percent": 0,
        "public_holidays": "KZ",
        "closure_days": [],
    }
    assert unknown.status_code == 404


async def test_only_administrators_set_rules_and_bad_rules_name_the_field(
    service_db, consumer, api_client, token
) -> None:
    w = await world(service_db, consumer)
    async with api_client("attendance", w.url) as client:
        by_operator = await client.put(RULES, json={}, headers=auth(token("operator", scope={"region": "astana"})))
        bad = await client.put(RULES, json={"min_attendance_percent": 120}, headers=auth(token("administrator")))
        wrong_type = await client.put(RULES, json={"min_attended_sessions": "2"}, headers=auth(token("administrator")))
        twice = await client.put(
            RULES,
            json={"closure_days": [{"date": "2026-10-12", "reason": "a"}, {"date": "2026-10-12", "reason": "b"}]},
            headers=auth(token("administrator")),
        )
        ok = await client.put(
            RULES,
            json={"no_answer": "deemed_confirmed", "closure_days": [{"date": "2026-10-12", "reason": "quarantine"}]},
            headers=auth(token("administrator", "admin-1")),
        )
    assert by_operator.status_code == 403
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "min_attendance_percent")
    assert (wrong_type.status_code, wrong_type.json()["errors"][0]["field"]) == (422, "min_attended_sessions")
    assert (twice.status_code, twice.json()["errors"][0]["field"]) == (422, "closure_days")
    assert (ok.json()["revision"], ok.json()["source"], ok.json()["set_by"]) == (1, "region", "administrator:admin-1")
    assert (await fetch(w.url, "SELECT count(*) AS n FROM region_rules"))[0]["n"] == 1


async def _submit(client, w, programme_id, token, marks=None):
    staff = auth(token("provider_staff", scope={"provider": str(w.provider_id)}))
    base = f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}"
    marked = await client.put(f"{base}/marks", json={"all_scheduled": "attended", "marks": marks or []}, headers=staff)
    assert marked.status_code == 200, marked.text
    return await client.post(f"{base}/submit", json={}, headers=staff)


async def test_a_region_closure_day_leaves_the_plan_and_the_rules_of_submission_stay(
    service_db, consumer, api_client, token
) -> None:
    w = await world(service_db, consumer)
    programme_id = await w.programme()
    enrolment_id, _, _ = await w.enrol(programme_id)
    async with api_at(api_client, w.url, NOV_2) as client:
        await client.put(
            RULES,
            json={
                "closure_days": [{"date": "2026-10-12", "reason": "quarantine"}],
                "min_attendance_percent": 90,
                "absent_sessions_payable": True,
            },
            headers=auth(token("administrator")),
        )
        await _submit(
            client,
            w,
            programme_id,
            token,
            [{"enrolment_id": str(enrolment_id), "date": "2026-10-14", "status": "absent"}],
        )
        await client.put(RULES, json={}, headers=auth(token("administrator")))  # back to defaults: revision 2
    (event,) = await outbox(w.url, "attendance.AttendanceSubmitted")
    assert (event["planned_sessions"], event["attended_sessions"]) == (6, 5)
    (row,) = await fetch(w.url, "SELECT rules_revision, payable_on_confirm FROM timesheet")
    assert (row["rules_revision"], row["payable_on_confirm"]) == (1, 0)  # 5 of 6 is below 90 %


@pytest.mark.parametrize(
    ("no_answer", "status", "events"), [("not_payable", "lapsed", 0), ("deemed_confirmed", "confirmed", 1)]
)
async def test_the_deadline_applies_the_no_answer_rule(
    service_db, consumer, api_client, token, no_answer, status, events
) -> None:
    w = await world(service_db, consumer)
    programme_id = await w.programme()
    await w.enrol(programme_id)
    answered_id, _, answered_guardian = await w.enrol(programme_id)
    async with api_at(api_client, w.url, NOV_2) as client:
        await client.put(RULES, json={"no_answer": no_answer}, headers=auth(token("administrator")))
        await _submit(client, w, programme_id, token)
        mine = (await client.get("/v1/timesheets", headers=auth(token("parent", str(answered_guardian))))).json()
        await client.post(
            f"/v1/timesheets/{mine['items'][0]['id']}/confirm", headers=auth(token("parent", str(answered_guardian)))
        )
    engine = make_engine(w.url, application_name="test")
    sessions = make_session_factory(engine)
    try:
        before = await confirmations.close_windows(deps_of(sessions), local(2026, 11, 5, 23, 59))
        after = await confirmations.close_windows(deps_of(sessions), local(2026, 11, 6, 0, 1))
        again = await confirmations.close_windows(deps_of(sessions), local(2026, 11, 7))
    finally:
        await engine.dispose()
    assert before == {"deemed_confirmed": 0, "lapsed": 0}
    assert after == {"deemed_confirmed": events, "lapsed": 1 - events}
    assert again == {"deemed_confirmed": 0, "lapsed": 0}
    rows = await fetch(w.url, "SELECT status, basis FROM timesheet WHERE enrolment_id <> $1", answered_id)
    assert [(r["status"], r["basis"]) for r in rows] == [(status, "deemed_confirmed" if events else None)]
    confirmed = await outbox(w.url, "attendance.AttendanceConfirmed")
    assert sorted(e["basis"] for e in confirmed) == sorted(["guardian_confirmed"] + ["deemed_confirmed"] * events)
    decisions = await fetch(w.url, "SELECT action, actor FROM decision WHERE action IN ('lapsed', 'deemed_confirmed')")
    assert [(d["action"], d["actor"]) for d in decisions] == [
        ("deemed_confirmed" if events else "lapsed", "system:confirmation_deadline")
    ]


async def test_after_the_window_a_guardian_can_no_longer_answer(service_db, consumer, api_client, token) -> None:
    w = await world(service_db, consumer)
    programme_id = await w.programme()
    _, _, guardian = await w.enrol(programme_id)
    async with api_at(api_client, w.url, NOV_2) as client:
        await _submit(client, w, programme_id, token)
    (event,) = await outbox(w.url, "attendance.AttendanceSubmitted")
    async with api_at(api_client, w.url, local(2026, 11, 6, 9)) as client:
        late = await client.post(
            f"/v1/timesheets/{event['timesheet_id']}/confirm", headers=auth(token("parent", str(guardian)))
        )
    assert late.status_code == 409
    assert await outbox(w.url, "attendance.AttendanceConfirmed") == []
