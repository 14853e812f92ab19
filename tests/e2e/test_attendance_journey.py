"""The attendance issue's done-when journey, tried as a new user would on ``qosym up``.

A family wins vouchers for three children; a verified provider runs two groups led by the same coach, one in Yesil
every day at 16:00 and one in Nura every day at 18:00; the children are enrolled today. Attendance's API is then
run "next month" (its clock shifted to the 2nd, 10:00 in Astana): the provider marks this month for both groups (all present,
plus a make-up lesson in Nura at 16:30, the hour the coach was teaching in Yesil) and submits; the parent confirms
one child, disputes a session of another and confirms the third; a stranger cannot confirm the family's child; an
operator of the region resolves the dispute. The timesheet topic then carries exactly one AttendanceConfirmed per
confirmed month and one DisputeResolved with the sessions that count, the reconciliation list agrees, and the coach
marked in two districts at the same hour raised a flag. Payments receives exactly the confirmed sessions once each:
one accrual per confirmed or resolved month, with that event's payable sessions, each event applied once.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from qosym_cli.stack import LocalStack
from tests.support.journeys import (
    award_vouchers,
    bearer,
    enrol,
    new_family,
    next_month_at,
    publish_programme,
    verified_provider,
)
from tests.support.stack_ops import db_value, shifted_clock, topic_records
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e
ASTANA = ZoneInfo("Asia/Almaty")
EVERY_DAY = [{"weekday": d, "start": "16:00", "end": "17:00"} for d in range(1, 8)]
EVERY_EVENING = [{"weekday": d, "start": "18:00", "end": "19:00"} for d in range(1, 8)]


def timesheet_events(stack: LocalStack, timesheet_ids: set[str]) -> list[dict]:
    """Every event of these timesheets on attendance.timesheet.v1, read from the start with a fresh group."""
    return [
        r.event
        for r in topic_records(stack, "attendance.timesheet.v1", lambda e: e.get("timesheet_id") in timesheet_ids)
    ]


def test_a_month_marked_confirmed_disputed_resolved_and_a_double_booked_coach(running_stack, token) -> None:
    stack = running_stack
    family = new_family(stack, token, children=3)
    award_vouchers(stack, token, [family])
    provider = verified_provider(stack, token)
    yesil = publish_programme(stack, provider, schedule=EVERY_DAY, sessions_per_month=30)
    nura = publish_programme(stack, provider, schedule=EVERY_EVENING, sessions_per_month=30, district_code="nura")
    first, second, third = family.children
    enrolled = {
        first.id: enrol(stack, family, first, yesil["id"]),
        second.id: enrol(stack, family, second, yesil["id"]),
        third.id: enrol(stack, family, third, nura["id"]),
    }
    now = datetime.now(UTC)
    period = now.astimezone(ASTANA).strftime("%Y-%m")
    operator = bearer(token("operator", scope={"region": "astana"}))
    stranger = bearer(token("parent", str(uuid.uuid4())))

    with httpx.Client(base_url=stack.api_url("attendance"), timeout=30) as attendance:

        def group_sheet(programme_id: str) -> dict:
            response = attendance.get(f"/v1/programmes/{programme_id}/timesheets/{period}", headers=provider.headers)
            return response.json() if response.status_code == 200 else {}

        # attendance learns the programmes (with their coach) and the enrolments from catalog's events
        eventually(lambda: len(group_sheet(yesil["id"]).get("enrolments", [])) == 2, timeout_s=60)
        eventually(lambda: len(group_sheet(nura["id"]).get("enrolments", [])) == 1, timeout_s=60)

        offset = int((next_month_at(now, ASTANA) - datetime.now(UTC)).total_seconds())
        with shifted_clock(stack, ("attendance",), roles=("api",), offset_s=offset):
            # the provider marks this month for both groups, the Nura group with a make-up lesson at 16:30
            marked = attendance.put(
                f"/v1/programmes/{yesil['id']}/timesheets/{period}/marks",
                json={"all_scheduled": "attended"},
                headers=provider.headers,
            )
            assert marked.status_code == 200, marked.text
            sessions = len(marked.json()["enrolments"][0]["marks"])
            day = marked.json()["enrolments"][0]["marks"][0]["date"]  # the first session (closure days have none)
            assert sessions >= 1 and all(len(c["unmarked"]) == 0 for c in marked.json()["enrolments"])
            make_up = {
                "enrolment_id": enrolled[third.id]["id"],
                "date": day,
                "starts_at": "16:30",
                "status": "attended",
                "reason": "make-up lesson",
            }
            marked_nura = attendance.put(
                f"/v1/programmes/{nura['id']}/timesheets/{period}/marks",
                json={"all_scheduled": "attended", "marks": [make_up]},
                headers=provider.headers,
            )
            assert marked_nura.status_code == 200, marked_nura.text
            submitted = attendance.post(
                f"/v1/providers/{provider.id}/timesheets/{period}/submit", headers=provider.headers
            )
            assert submitted.status_code == 200, submitted.text
            assert (submitted.json()["submitted"], submitted.json()["incomplete_count"]) == (3, 0)

            # the parent sees the three months, confirms the first, disputes a session of the second
            months = attendance.get(f"/v1/timesheets?period={period}", headers=family.headers).json()["items"]
            by_child = {m["child_id"]: m for m in months}
            assert set(by_child) == {first.id, second.id, third.id}
            assert all(m["status"] == "submitted" for m in months)
            assert attendance.get(f"/v1/timesheets/{by_child[second.id]['id']}", headers=stranger).status_code == 404
            forbidden = attendance.post(f"/v1/timesheets/{by_child[second.id]['id']}/confirm", headers=stranger)
            assert forbidden.status_code == 404, forbidden.text

            confirmed = attendance.post(f"/v1/timesheets/{by_child[first.id]['id']}/confirm", headers=family.headers)
            assert confirmed.status_code == 200, confirmed.text
            disputed = attendance.post(
                f"/v1/timesheets/{by_child[second.id]['id']}/dispute",
                json={
                    "comment": "she was ill on the first day",
                    "sessions": [{"date": day, "claim": "absent", "comment": "fever"}],
                },
                headers=family.headers,
            )
            assert disputed.status_code == 201, disputed.text
            third_ok = attendance.post(
                "/v1/timesheets/confirm", json={"timesheet_ids": [by_child[third.id]["id"]]}, headers=family.headers
            )
            assert third_ok.status_code == 200, third_ok.text

            # an operator of the region resolves the dispute for the guardian
            open_disputes = attendance.get("/v1/disputes?status=open", headers=operator).json()["items"]
            dispute_id = disputed.json()["dispute_id"]
            assert dispute_id in [d["id"] for d in open_disputes]
            resolved = attendance.post(
                f"/v1/disputes/{dispute_id}/resolve",
                json={"rulings": [{"date": day, "ruling": "guardian_upheld"}], "comment": "a doctor's note"},
                headers=operator,
            )
            assert resolved.status_code == 200, resolved.text
            assert resolved.json()["payable_sessions"] == sessions - 1

            # the coach marked in Yesil and in Nura at the same hour is flagged
            staff = bearer(token("ops"))
            attendance.post(f"/v1/risk-flags/scan?period={period}", headers=staff)
            flags = eventually(
                lambda: attendance.get(
                    f"/v1/risk-flags?rule=coach_double_booked&period={period}", headers=operator
                ).json()["items"],
                timeout_s=60,
            )
            flag = next(f for f in flags if f["subject_id"] == provider.coach_id)
            assert flag["severity"] == "high" and flag["subject_type"] == "staff"
            clash = flag["evidence"]["clashes"][0]
            assert set(clash["programme_ids"]) == {yesil["id"], nura["id"]}
            assert set(clash["districts"]) == {provider.district, "nura"}

            payable = attendance.get(
                f"/v1/timesheets/payable?region_code=astana&period={period}&limit=100", headers=staff
            ).json()["items"]

    ids = {m["id"] for m in months}
    mine = {p["timesheet_id"]: p for p in payable if p["timesheet_id"] in ids}
    nura_planned = mine[by_child[third.id]["id"]]["planned_sessions"]
    assert {(p["child_id"], p["payable_sessions"], p["basis"]) for p in mine.values()} == {
        (first.id, sessions, "guardian_confirmed"),
        (second.id, sessions - 1, "dispute_resolved"),
        (third.id, min(sessions + 1, nura_planned), "guardian_confirmed"),  # with the make-up lesson
    }

    # what payments reads: exactly one AttendanceConfirmed per confirmed month, one DisputeResolved, nothing twice
    events = eventually(
        lambda: (
            (found := timesheet_events(stack, ids))
            and sum(e["event_type"] != "attendance.AttendanceSubmitted" for e in found) >= 4
            and found
        ),
        timeout_s=60,
    )
    kinds: dict[str, list[str]] = {}
    for event in events:
        kinds.setdefault(event["timesheet_id"], []).append(event["event_type"])
    assert sorted(kinds[by_child[first.id]["id"]]) == [
        "attendance.AttendanceConfirmed",
        "attendance.AttendanceSubmitted",
    ]
    assert sorted(kinds[by_child[third.id]["id"]]) == [
        "attendance.AttendanceConfirmed",
        "attendance.AttendanceSubmitted",
    ]
    assert sorted(kinds[by_child[second.id]["id"]]) == [
        "attendance.AttendanceDisputed",
        "attendance.AttendanceSubmitted",
        "attendance.DisputeResolved",
    ]
    resolved_event = next(e for e in events if e["event_type"] == "attendance.DisputeResolved")
    assert resolved_event["payable_sessions"] == sessions - 1
    confirmed_events = {e["timesheet_id"]: e for e in events if e["event_type"] == "attendance.AttendanceConfirmed"}
    for timesheet_id, event in confirmed_events.items():
        assert event["payable_sessions"] == mine[timesheet_id]["payable_sessions"]
        assert event["planned_sessions"] == mine[timesheet_id]["planned_sessions"]

    # payments receives exactly the confirmed sessions once each: one accrual per confirmed or resolved month
    answers = [e for e in events if e["event_type"] in ("attendance.AttendanceConfirmed", "attendance.DisputeResolved")]
    assert len(answers) == 3
    monthly_value = httpx.get(f"{stack.api_url('allocation')}/v1/regions/astana", timeout=30).json()["config"][
        "voucher"
    ]["monthly_value"]["sports"]
    with httpx.Client(base_url=stack.api_url("payments"), timeout=30) as payments:

        def accruals() -> list[dict]:
            response = payments.get(f"/v1/providers/{provider.id}/accruals?period={period}", headers=provider.headers)
            assert response.status_code == 200, response.text
            return response.json()["items"]

        accrued = eventually(lambda: len(found := accruals()) >= 3 and found, timeout_s=60)
    price = yesil["price_per_month_tiyn"]
    assert nura["price_per_month_tiyn"] == price
    assert sorted(
        (a["enrolment_id"], a["payable_sessions"], a["planned_sessions"], a["amount_tiyn"]) for a in accrued
    ) == sorted(
        (
            e["enrolment_id"],
            e["payable_sessions"],
            e["planned_sessions"],
            min(price * min(e["payable_sessions"], e["planned_sessions"]) // e["planned_sessions"], monthly_value),
        )
        for e in answers
    )
    applied = db_value(
        stack,
        "payments",
        "select count(*) from inbox where consumer = 'payments' and event_id = any($1::uuid[])",
        [e["event_id"] for e in events],
    )
    assert applied == len(answers)  # each answer once; the submissions and the dispute itself move no money
