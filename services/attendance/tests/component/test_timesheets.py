"""A provider marks a group's month and submits it; guardians confirm or dispute; an operator resolves."""

from __future__ import annotations

from uuid import uuid4

import pytest

from .support import OCTOBER, api_at, auth, fetch, local, outbox, world

pytestmark = pytest.mark.component
NOV_2 = local(2026, 11, 2, 10)  # before the default deadlines (submit by Nov 3, confirm by Nov 5)


async def marked_group(service_db, consumer, api_client, token, children: int = 3):
    w = await world(service_db, consumer)
    programme_id = await w.programme()
    kids = [await w.enrol(programme_id) for _ in range(children)]
    staff = auth(token("provider_staff", scope={"provider": str(w.provider_id)}))
    return w, programme_id, kids, staff


async def test_a_group_month_from_marking_to_payable(service_db, consumer, api_client, token) -> None:
    w, programme_id, kids, staff = await marked_group(service_db, consumer, api_client, token)
    (_, c1, g1), (e2, c2, g2), (e3, c3, g3) = kids
    async with api_at(api_client, w.url, NOV_2) as client:
        sheet = await client.put(
            f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}/marks",
            json={
                "all_scheduled": "attended",
                "marks": [
                    {"enrolment_id": str(e2), "date": "2026-10-14", "status": "absent"},
                    {"enrolment_id": str(e3), "date": "2026-10-21", "status": "cancelled_by_provider"},
                ],
            },
            headers=staff,
        )
        assert sheet.status_code == 200, sheet.text
        body = sheet.json()
        assert [c["date"] for c in body["closure_days"]] == ["2026-10-25", "2026-10-26"]
        assert len([s for s in body["sessions"] if s["closure"] is None]) == 7
        assert all(len(c["marks"]) == 7 and c["unmarked"] == [] for c in body["enrolments"])

        submitted = await client.post(
            f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}/submit", json={}, headers=staff
        )
        assert submitted.status_code == 200, submitted.text
        assert submitted.json()["submitted"] == 3 and submitted.json()["late"] is False

        events = await outbox(w.url, "attendance.AttendanceSubmitted")
        assert len(events) == 3
        by_child = {e["child_id"]: e for e in events}
        assert by_child[str(c1)]["planned_sessions"] == 7 and by_child[str(c1)]["attended_sessions"] == 7
        assert by_child[str(c2)]["attended_sessions"] == 6
        assert by_child[str(c1)]["confirm_by"].startswith("2026-11-05T19:00:00")
        assert by_child[str(c1)]["sessions"][0] == {"date": "2026-10-05", "starts_at": "16:00:00", "status": "attended"}
        t1, t2, t3 = (by_child[str(c)]["timesheet_id"] for c in (c1, c2, c3))

        # the first guardian confirms, the second disputes the absence, the third confirms too
        confirmed = await client.post(f"/v1/timesheets/{t1}/confirm", headers=auth(token("parent", str(g1))))
        assert confirmed.status_code == 200, confirmed.text
        disputed = await client.post(
            f"/v1/timesheets/{t2}/dispute",
            json={"comment": "she was there", "sessions": [{"date": "2026-10-14", "claim": "attended"}]},
            headers=auth(token("parent", str(g2))),
        )
        assert disputed.status_code == 201, disputed.text
        dispute_id = disputed.json()["dispute_id"]
        third = await client.post(
            "/v1/timesheets/confirm", json={"timesheet_ids": [t3]}, headers=auth(token("parent", str(g3)))
        )
        assert third.status_code == 200, third.text

        operator = auth(token("operator", scope={"region": "astana"}))
        listed = await client.get("/v1/disputes?status=open", headers=operator)
        assert [d["id"] for d in listed.json()["items"]] == [dispute_id]
        resolved = await client.post(
            f"/v1/disputes/{dispute_id}/resolve",
            json={"rulings": [{"date": "2026-10-14", "ruling": "guardian_upheld"}], "comment": "the coach agreed"},
            headers=operator,
        )
        assert resolved.status_code == 200, resolved.text
        assert resolved.json() | {"dispute_id": None} == {
            "dispute_id": None,
            "timesheet_id": t2,
            "outcome": "guardian_upheld",
            "planned_sessions": 7,
            "payable_sessions": 7,
        }

        payable = await client.get(
            "/v1/timesheets/payable?region_code=astana&period=2026-10", headers=auth(token("auditor"))
        )
        assert payable.status_code == 200
        items = {i["timesheet_id"]: i for i in payable.json()["items"]}
        assert {k: (v["payable_sessions"], v["planned_sessions"], v["basis"]) for k, v in items.items()} == {
            t1: (7, 7, "guardian_confirmed"),
            t2: (7, 7, "dispute_resolved"),
            t3: (6, 7, "guardian_confirmed"),  # a session the provider cancelled is not payable by default
        }
        assert [i["timesheet_id"] for i in payable.json()["items"]] == sorted(items)

        detail = await client.get(f"/v1/timesheets/{t2}", headers=auth(token("parent", str(g2))))
        assert [(d["action"], d["actor"].split(":")[0]) for d in detail.json()["decisions"]] == [
            ("submitted", "provider_staff"),
            ("disputed", "parent"),
            ("dispute_resolved", "operator"),
        ]

    confirmed_events = await outbox(w.url, "attendance.AttendanceConfirmed")
    assert sorted((e["timesheet_id"], e["payable_sessions"], e["basis"]) for e in confirmed_events) == sorted(
        [(t1, 7, "guardian_confirmed"), (t3, 6, "guardian_confirmed")]
    )
    assert [e["disputed_sessions"] for e in await outbox(w.url, "attendance.AttendanceDisputed")] == [1]
    resolved_events = await outbox(w.url, "attendance.DisputeResolved")
    assert [(e["timesheet_id"], e["payable_sessions"], e["outcome"]) for e in resolved_events] == [
        (t2, 7, "guardian_upheld")
    ]


async def test_confirming_twice_publishes_once(service_db, consumer, api_client, token) -> None:
    w, programme_id, kids, staff = await marked_group(service_db, consumer, api_client, token, children=1)
    ((_, _, guardian),) = kids
    async with api_at(api_client, w.url, NOV_2) as client:
        await client.put(
            f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}/marks",
            json={"all_scheduled": "attended"},
            headers=staff,
        )
        await client.post(f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}/submit", json={}, headers=staff)
        (submitted,) = await outbox(w.url, "attendance.AttendanceSubmitted")
        parent = auth(token("parent", str(guardian)))
        first = await client.post(f"/v1/timesheets/{submitted['timesheet_id']}/confirm", headers=parent)
        second = await client.post(f"/v1/timesheets/{submitted['timesheet_id']}/confirm", headers=parent)
        again = await client.post(f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}/submit", json={}, headers=staff)

    assert first.status_code == 200 and second.status_code == 409
    assert again.json()["submitted"] == 0
    assert len(await outbox(w.url, "attendance.AttendanceConfirmed")) == 1
    assert len(await outbox(w.url, "attendance.AttendanceSubmitted")) == 1


async def test_an_incomplete_month_is_not_submitted(service_db, consumer, api_client, token) -> None:
    w, programme_id, kids, staff = await marked_group(service_db, consumer, api_client, token, children=2)
    (e1, _, _), (e2, _, _) = kids
    async with api_at(api_client, w.url, NOV_2) as client:
        await client.put(
            f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}/marks",
            json={
                "marks": [
                    {"enrolment_id": str(e1), "date": d, "status": "attended"}
                    for d in (
                        "2026-10-05",
                        "2026-10-07",
                        "2026-10-12",
                        "2026-10-14",
                        "2026-10-19",
                        "2026-10-21",
                        "2026-10-28",
                    )
                ]
            },
            headers=staff,
        )
        result = await client.post(f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}/submit", json={}, headers=staff)

    assert result.json()["submitted"] == 1
    assert [(i["enrolment_id"], i["missing_sessions"]) for i in result.json()["incomplete"]] == [(str(e2), 7)]


async def test_a_child_who_joined_mid_month_earns_the_share_of_the_month_it_attended(
    service_db, consumer, api_client, token
) -> None:
    w = await world(service_db, consumer)
    programme_id = await w.programme()
    enrolment_id, _, _ = await w.enrol(programme_id, since=local(2026, 10, 20, 9))
    staff = auth(token("provider_staff", scope={"provider": str(w.provider_id)}))
    async with api_at(api_client, w.url, NOV_2) as client:
        early = await client.put(
            f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}/marks",
            json={"marks": [{"enrolment_id": str(enrolment_id), "date": "2026-10-19", "status": "attended"}]},
            headers=staff,
        )
        await client.put(
            f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}/marks",
            json={"all_scheduled": "attended"},
            headers=staff,
        )
        await client.post(f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}/submit", json={}, headers=staff)

    assert early.status_code == 422 and early.json()["errors"][0]["field"] == "marks[0].date"
    (event,) = await outbox(w.url, "attendance.AttendanceSubmitted")
    assert (event["planned_sessions"], event["attended_sessions"]) == (7, 2)  # the 21st and the 28th


async def test_closure_days_and_extra_sessions_need_a_reason(service_db, consumer, api_client, token) -> None:
    w, programme_id, kids, staff = await marked_group(service_db, consumer, api_client, token, children=1)
    ((enrolment_id, _, _),) = kids
    path = f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}/marks"
    async with api_at(api_client, w.url, NOV_2) as client:
        closure = await client.put(
            path,
            json={"marks": [{"enrolment_id": str(enrolment_id), "date": "2026-10-26", "status": "attended"}]},
            headers=staff,
        )
        extra = await client.put(
            path,
            json={
                "marks": [
                    {
                        "enrolment_id": str(enrolment_id),
                        "date": "2026-10-10",
                        "starts_at": "11:00",
                        "status": "attended",
                    }
                ]
            },
            headers=staff,
        )
        no_time = await client.put(
            path,
            json={
                "marks": [
                    {"enrolment_id": str(enrolment_id), "date": "2026-10-10", "status": "attended", "reason": "make-up"}
                ]
            },
            headers=staff,
        )
        reasoned = await client.put(
            path,
            json={
                "marks": [
                    {
                        "enrolment_id": str(enrolment_id),
                        "date": "2026-10-26",
                        "status": "attended",
                        "reason": "tournament",
                    },
                    {
                        "enrolment_id": str(enrolment_id),
                        "date": "2026-10-10",
                        "starts_at": "11:00",
                        "status": "attended",
                        "reason": "make-up lesson",
                    },
                ]
            },
            headers=staff,
        )
    assert (closure.status_code, closure.json()["errors"][0]["field"]) == (422, "marks[0].reason")
    assert (extra.status_code, extra.json()["errors"][0]["field"]) == (422, "marks[0].reason")
    assert (no_time.status_code, no_time.json()["errors"][0]["field"]) == (422, "marks[0].starts_at")
    assert reasoned.status_code == 200, reasoned.text
    marks = reasoned.json()["enrolments"][0]["marks"]
    assert [(m["date"], m["scheduled"], m["closure_day"], m["reason"]) for m in marks] == [
        ("2026-10-10", False, False, "make-up lesson"),
        ("2026-10-26", True, True, "tournament"),
    ]


async def test_a_future_session_cannot_be_marked(service_db, consumer, api_client, token) -> None:
    w, programme_id, kids, staff = await marked_group(service_db, consumer, api_client, token, children=1)
    ((enrolment_id, _, _),) = kids
    async with api_at(api_client, w.url, local(2026, 10, 14, 12)) as client:
        future = await client.put(
            f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}/marks",
            json={"marks": [{"enrolment_id": str(enrolment_id), "date": "2026-10-14", "status": "attended"}]},
            headers=staff,
        )
        bulk = await client.put(
            f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}/marks",
            json={"all_scheduled": "attended"},
            headers=staff,
        )
        early_submit = await client.post(
            f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}/submit", json={}, headers=staff
        )

    assert (future.status_code, future.json()["errors"][0]["field"]) == (422, "marks[0].date")
    assert [m["date"] for m in bulk.json()["enrolments"][0]["marks"]] == ["2026-10-05", "2026-10-07", "2026-10-12"]
    assert (early_submit.status_code, early_submit.json()["errors"][0]["field"]) == (422, "period")


async def test_late_submission_needs_an_operator(service_db, consumer, api_client, token) -> None:
    w, programme_id, _, staff = await marked_group(service_db, consumer, api_client, token, children=1)
    late = local(2026, 11, 10, 10)
    async with api_at(api_client, w.url, late) as client:
        await client.put(
            f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}/marks",
            json={"all_scheduled": "attended"},
            headers=staff,
        )
        refused = await client.post(
            f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}/submit", json={}, headers=staff
        )
        by_provider = await client.post(
            f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}/late-submission", json={"reason": "x"}, headers=staff
        )
        other_region = await client.post(
            f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}/late-submission",
            json={"reason": "flood"},
            headers=auth(token("operator", scope={"region": "almaty"})),
        )
        allowed = await client.post(
            f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}/late-submission",
            json={"reason": "the coach was ill", "days": 3},
            headers=auth(token("operator", scope={"region": "astana"})),
        )
        accepted = await client.post(
            f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}/submit", json={}, headers=staff
        )

    assert refused.status_code == 409
    assert by_provider.status_code == 403
    assert other_region.status_code == 404
    assert allowed.status_code == 200 and allowed.json()["granted_by"].startswith("operator:")
    assert accepted.json()["submitted"] == 1 and accepted.json()["late"] is True
    (event,) = await outbox(w.url, "attendance.AttendanceSubmitted")
    assert event["late"] is True
    assert event["confirm_by"][:16] == "2026-11-13T05:00"  # three days from the late submission


async def test_an_enrolment_before_its_programme_waits_for_the_schedule(
    service_db, consumer, api_client, token
) -> None:
    w = await world(service_db, consumer)
    programme_id = uuid4()
    enrolment_id, _, _ = await w.enrol(programme_id)
    staff = auth(token("provider_staff", scope={"provider": str(w.provider_id)}))
    async with api_at(api_client, w.url, NOV_2) as client:
        before = await client.get(f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}", headers=staff)
        from qosym_contracts.catalog import ProgrammePublishedV1

        from .support import MON_WED, utc

        await w.deliver(
            ProgrammePublishedV1(
                occurred_at=utc(2026, 9, 1),
                programme_id=programme_id,
                provider_id=w.provider_id,
                direction="sports",
                region_code="astana",
                district_code="yesil",
                age_min=6,
                age_max=12,
                language="kk",
                sessions_per_month=8,
                price_per_month_tiyn=1,
                capacity=5,
                schedule=MON_WED,
            )
        )
        after = await client.get(f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}", headers=staff)
    assert before.status_code == 404
    assert [e["enrolment_id"] for e in after.json()["enrolments"]] == [str(enrolment_id)]


async def test_rows_are_unique_per_enrolment_and_period(service_db, consumer, api_client, token) -> None:
    w, programme_id, _, staff = await marked_group(service_db, consumer, api_client, token, children=2)
    async with api_at(api_client, w.url, NOV_2) as client:
        for _ in range(2):
            await client.put(
                f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}/marks",
                json={"all_scheduled": "attended"},
                headers=staff,
            )
    rows = await fetch(w.url, "SELECT enrolment_id, count(*) AS n FROM timesheet GROUP BY 1")
    assert sorted(r["n"] for r in rows) == [1, 1]
    assert (await fetch(w.url, "SELECT count(*) AS n FROM session_mark"))[0]["n"] == 14
