"""Forbidden paths: a provider marks only its own groups, a guardian answers only for their own children,
an operator decides only in their region; foreign objects answer exactly like missing ones."""

from __future__ import annotations

from uuid import uuid4

import pytest

from .support import OCTOBER, api_at, auth, local, outbox, world

pytestmark = pytest.mark.component
NOV_2 = local(2026, 11, 2, 10)


async def submitted_month(service_db, consumer, api_client, token):
    w = await world(service_db, consumer)
    programme_id = await w.programme()
    enrolment_id, _, guardian = await w.enrol(programme_id)
    staff = auth(token("provider_staff", scope={"provider": str(w.provider_id)}))
    async with api_at(api_client, w.url, NOV_2) as client:
        await client.put(
            f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}/marks",
            json={"all_scheduled": "attended"},
            headers=staff,
        )
        await client.post(f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}/submit", json={}, headers=staff)
    (event,) = await outbox(w.url, "attendance.AttendanceSubmitted")
    return w, programme_id, enrolment_id, event["timesheet_id"], guardian, staff


async def test_another_provider_cannot_see_mark_or_submit_a_group(service_db, consumer, api_client, token) -> None:
    w = await world(service_db, consumer)
    programme_id = await w.programme()
    enrolment_id, _, _ = await w.enrol(programme_id)
    other = auth(token("provider_staff", scope={"provider": str(uuid4())}))
    base = f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}"
    async with api_at(api_client, w.url, NOV_2) as client:
        missing = await client.get(f"/v1/programmes/{uuid4()}/timesheets/{OCTOBER}", headers=other)
        read = await client.get(base, headers=other)
        marked = await client.put(
            f"{base}/marks",
            json={"marks": [{"enrolment_id": str(enrolment_id), "date": "2026-10-05", "status": "attended"}]},
            headers=other,
        )
        submitted = await client.post(f"{base}/submit", json={}, headers=other)
        by_provider = await client.post(f"/v1/providers/{w.provider_id}/timesheets/{OCTOBER}/submit", headers=other)
        as_parent = await client.put(f"{base}/marks", json={"all_scheduled": "attended"}, headers=auth(token("parent")))

    assert read.status_code == marked.status_code == submitted.status_code == by_provider.status_code == 404
    assert read.json()["detail"] == missing.json()["detail"]
    assert as_parent.status_code == 403
    assert await outbox(w.url, "attendance.AttendanceSubmitted") == []


async def test_a_child_of_another_group_cannot_be_marked_in_this_one(service_db, consumer, api_client, token) -> None:
    w = await world(service_db, consumer)
    mine = await w.programme()
    other_group = await w.programme()
    stranger, _, _ = await w.enrol(other_group)
    await w.enrol(mine)
    staff = auth(token("provider_staff", scope={"provider": str(w.provider_id)}))
    async with api_at(api_client, w.url, NOV_2) as client:
        response = await client.put(
            f"/v1/programmes/{mine}/timesheets/{OCTOBER}/marks",
            json={"marks": [{"enrolment_id": str(stranger), "date": "2026-10-05", "status": "attended"}]},
            headers=staff,
        )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "marks[0].enrolment_id"


async def test_a_parent_cannot_confirm_or_dispute_someone_elses_child(service_db, consumer, api_client, token) -> None:
    w, _, _, timesheet_id, guardian, _ = await submitted_month(service_db, consumer, api_client, token)
    stranger = auth(token("parent", str(uuid4())))
    async with api_at(api_client, w.url, NOV_2) as client:
        missing = await client.post(f"/v1/timesheets/{uuid4()}/confirm", headers=stranger)
        confirm = await client.post(f"/v1/timesheets/{timesheet_id}/confirm", headers=stranger)
        bulk = await client.post("/v1/timesheets/confirm", json={"timesheet_ids": [timesheet_id]}, headers=stranger)
        dispute = await client.post(
            f"/v1/timesheets/{timesheet_id}/dispute",
            json={"comment": "no", "sessions": [{"date": "2026-10-05", "claim": "absent"}]},
            headers=stranger,
        )
        read = await client.get(f"/v1/timesheets/{timesheet_id}", headers=stranger)
        listed = await client.get("/v1/timesheets", headers=stranger)
        own_list = await client.get("/v1/timesheets", headers=auth(token("parent", str(guardian))))
        provider_confirms = await client.post(
            f"/v1/timesheets/{timesheet_id}/confirm",
            headers=auth(token("provider_staff", scope={"provider": str(w.provider_id)})),
        )

    for response in (confirm, bulk, dispute, read):
        assert response.status_code == 404
        assert response.json()["detail"] == missing.json()["detail"]
    assert listed.json()["items"] == []
    assert [t["id"] for t in own_list.json()["items"]] == [timesheet_id]
    assert provider_confirms.status_code == 403
    assert await outbox(w.url, "attendance.AttendanceConfirmed") == []
    assert await outbox(w.url, "attendance.AttendanceDisputed") == []


async def test_a_bulk_confirmation_with_one_foreign_month_confirms_nothing(
    service_db, consumer, api_client, token
) -> None:
    w = await world(service_db, consumer)
    programme_id = await w.programme()
    guardian = uuid4()
    await w.enrol(programme_id, guardian_id=guardian)
    await w.enrol(programme_id, guardian_id=guardian)
    await w.enrol(programme_id)  # someone else's child
    staff = auth(token("provider_staff", scope={"provider": str(w.provider_id)}))
    async with api_at(api_client, w.url, NOV_2) as client:
        await client.put(
            f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}/marks",
            json={"all_scheduled": "attended"},
            headers=staff,
        )
        await client.post(f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}/submit", json={}, headers=staff)
        mine = (await client.get("/v1/timesheets", headers=auth(token("parent", str(guardian))))).json()["items"]
        everything = [e["timesheet_id"] for e in await outbox(w.url, "attendance.AttendanceSubmitted")]
        parent = auth(token("parent", str(guardian)))
        mixed = await client.post("/v1/timesheets/confirm", json={"timesheet_ids": everything}, headers=parent)
        own = await client.post(
            "/v1/timesheets/confirm", json={"timesheet_ids": [t["id"] for t in mine]}, headers=parent
        )

    assert mixed.status_code == 404
    assert own.status_code == 200 and len(own.json()["confirmed"]) == 2
    assert len(await outbox(w.url, "attendance.AttendanceConfirmed")) == 2


async def test_an_operator_resolves_only_disputes_of_their_region(service_db, consumer, api_client, token) -> None:
    w, _, _, timesheet_id, guardian, _ = await submitted_month(service_db, consumer, api_client, token)
    async with api_at(api_client, w.url, NOV_2) as client:
        opened = await client.post(
            f"/v1/timesheets/{timesheet_id}/dispute",
            json={"comment": "ill that day", "sessions": [{"date": "2026-10-05", "claim": "absent", "comment": "flu"}]},
            headers=auth(token("parent", str(guardian))),
        )
        dispute_id = opened.json()["dispute_id"]
        body = {"rulings": [{"date": "2026-10-05", "ruling": "provider_upheld"}], "comment": "checked"}
        foreign = await client.post(
            f"/v1/disputes/{dispute_id}/resolve", json=body, headers=auth(token("operator", scope={"region": "almaty"}))
        )
        foreign_list = await client.get("/v1/disputes", headers=auth(token("operator", scope={"region": "almaty"})))
        by_parent = await client.post(
            f"/v1/disputes/{dispute_id}/resolve", json=body, headers=auth(token("parent", str(guardian)))
        )
        incomplete = await client.post(
            f"/v1/disputes/{dispute_id}/resolve",
            json={"rulings": [{"date": "2026-10-07", "ruling": "provider_upheld"}], "comment": "?"},
            headers=auth(token("operator", scope={"region": "astana"})),
        )
        ok = await client.post(
            f"/v1/disputes/{dispute_id}/resolve", json=body, headers=auth(token("operator", scope={"region": "astana"}))
        )
        twice = await client.post(f"/v1/disputes/{dispute_id}/resolve", json=body, headers=auth(token("administrator")))

    assert foreign.status_code == 404 and foreign_list.json()["items"] == []
    assert by_parent.status_code == 403
    assert (incomplete.status_code, incomplete.json()["errors"][0]["field"]) == (422, "rulings[0].date")
    assert ok.json()["outcome"] == "provider_upheld" and ok.json()["payable_sessions"] == 7
    assert twice.status_code == 409
    assert len(await outbox(w.url, "attendance.DisputeResolved")) == 1


async def test_the_payable_list_is_for_staff_and_operators_of_the_region(
    service_db, consumer, api_client, token
) -> None:
    w, _, _, timesheet_id, guardian, staff = await submitted_month(service_db, consumer, api_client, token)
    async with api_at(api_client, w.url, NOV_2) as client:
        await client.post(f"/v1/timesheets/{timesheet_id}/confirm", headers=auth(token("parent", str(guardian))))
        as_parent = await client.get("/v1/timesheets/payable", headers=auth(token("parent", str(guardian))))
        as_provider = await client.get("/v1/timesheets/payable", headers=staff)
        other_operator = await client.get(
            "/v1/timesheets/payable?region_code=astana", headers=auth(token("operator", scope={"region": "almaty"}))
        )
        own_operator = await client.get(
            "/v1/timesheets/payable", headers=auth(token("operator", scope={"region": "astana"}))
        )
        ops = await client.get("/v1/timesheets/payable?limit=1&offset=0", headers=auth(token("ops")))
        bad = await client.get("/v1/timesheets/payable?period=2026-13", headers=auth(token("ops")))

    assert as_parent.status_code == as_provider.status_code == other_operator.status_code == 403
    assert [i["timesheet_id"] for i in own_operator.json()["items"]] == [timesheet_id]
    assert ops.json()["total"] == 1 and ops.json()["items"][0]["basis"] == "guardian_confirmed"
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "period")


async def test_bad_input_names_the_field_and_changes_nothing(service_db, consumer, api_client, token) -> None:
    w = await world(service_db, consumer)
    programme_id = await w.programme()
    enrolment_id, _, _ = await w.enrol(programme_id)
    staff = auth(token("provider_staff", scope={"provider": str(w.provider_id)}))
    base = f"/v1/programmes/{programme_id}/timesheets"
    async with api_at(api_client, w.url, NOV_2) as client:
        status = await client.put(
            f"{base}/{OCTOBER}/marks",
            json={"marks": [{"enrolment_id": str(enrolment_id), "date": "2026-10-05", "status": "present"}]},
            headers=staff,
        )
        period = await client.put(f"{base}/2026-1/marks", json={}, headers=staff)
        extra = await client.put(f"{base}/{OCTOBER}/marks", json={"everyone": "attended"}, headers=staff)
        day = await client.put(
            f"{base}/{OCTOBER}/marks",
            json={"marks": [{"enrolment_id": str(enrolment_id), "date": "2026-11-01", "status": "attended"}]},
            headers=staff,
        )
        not_yet = await client.put(f"{base}/2027-01/marks", json={"all_scheduled": "attended"}, headers=staff)
    assert (status.status_code, status.json()["errors"][0]["field"]) == (422, "marks.0.status")
    assert (period.status_code, period.json()["errors"][0]["field"]) == (422, "period")
    assert (extra.status_code, extra.json()["errors"][0]["field"]) == (422, "everyone")
    assert (day.status_code, day.json()["errors"][0]["field"]) == (422, "marks[0].date")
    assert (not_yet.status_code, not_yet.json()["errors"][0]["field"]) == (422, "period")
    for response in (status, period, extra, day, not_yet):
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_concurrent_answers_to_one_month_publish_one_event(service_db, consumer, api_client, token) -> None:
    import asyncio

    w, _, _, timesheet_id, guardian, _ = await submitted_month(service_db, consumer, api_client, token)
    parent = auth(token("parent", str(guardian)))
    async with api_at(api_client, w.url, NOV_2) as client:
        confirms = [client.post(f"/v1/timesheets/{timesheet_id}/confirm", headers=parent) for _ in range(8)]
        disputes = [
            client.post(
                f"/v1/timesheets/{timesheet_id}/dispute",
                json={"comment": "no", "sessions": [{"date": "2026-10-05", "claim": "absent"}]},
                headers=parent,
            )
            for _ in range(4)
        ]
        responses = await asyncio.gather(*confirms, *disputes)

    codes = sorted(r.status_code for r in responses)
    assert codes.count(409) == 11 and len([c for c in codes if c in (200, 201)]) == 1
    answered = await outbox(w.url, "attendance.AttendanceConfirmed") + await outbox(
        w.url, "attendance.AttendanceDisputed"
    )
    assert len(answered) == 1
