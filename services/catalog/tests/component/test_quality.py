"""Provider quality signals per programme: retention after 2 and 3 months, dispute rate, complaints, in the public
search and in the administrators' listing."""

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from catalog.domain.attendance import next_month_start, period_of, shift_period, zone
from qosym_contracts.attendance import AttendanceDisputedV1
from tests.support.events import message, region_event

from .support import auth, confirmed_enrolment, fetch, programme, verified_provider
from .test_attendance import first_of, submitted

pytestmark = pytest.mark.component
ALMATY = zone("Asia/Almaty")
CHESS = {"kk": "Шахмат", "ru": "Шахматы", "en": "Chess"}


async def test_signals_count_retention_disputes_and_complaints(service_db, consumer, api_client, token) -> None:
    url = await service_db("catalog")
    now = datetime.now(UTC)
    confirmed = now - timedelta(days=130)  # at least 3 months and the 10 grace days ago
    month1 = period_of(confirmed, ALMATY)
    month2, month3 = shift_period(month1, 1), shift_period(month1, 2)
    async with api_client("catalog", url) as client:
        c = await consumer("catalog", url)
        await c.deliver(message(region_event()))
        provider_id, staff = await verified_provider(client, token)
        hockey = await programme(client, provider_id, staff)
        chess = await programme(client, provider_id, staff, title=CHESS)
        stays, parent = await confirmed_enrolment(client, c, token, hockey)
        leaves_in_month2, other_parent = await confirmed_enrolment(client, c, token, hockey)
        drops_in_month3, _ = await confirmed_enrolment(client, c, token, hockey)
        new, _ = await confirmed_enrolment(client, c, token, hockey)  # too recent to count
        for e in (stays, leaves_in_month2, drops_in_month3):
            await fetch(url, "UPDATE enrolment SET confirmed_at = $1 WHERE id = $2", confirmed, UUID(e["id"]))
        await client.post(f"/v1/enrolments/{leaves_in_month2['id']}/end", json={"reason": "left"}, headers=other_parent)
        left_at = next_month_start(confirmed, ALMATY) + timedelta(days=5)  # 6th of month 2
        await fetch(url, "UPDATE enrolment SET ended_at = $1 WHERE id = $2", left_at, UUID(leaves_in_month2["id"]))
        sheets = {
            (stays["id"], month2): submitted(stays, month2, [(first_of(month2), "attended")]),
            (stays["id"], month3): submitted(stays, month3, [(first_of(month3), "attended")]),
            (leaves_in_month2["id"], month2): submitted(leaves_in_month2, month2, [(first_of(month2), "attended")]),
            (drops_in_month3["id"], month2): submitted(drops_in_month3, month2, [(first_of(month2), "attended")]),
            (drops_in_month3["id"], month3): submitted(drops_in_month3, month3, [(first_of(month3), "absent")]),
        }
        for sheet in sheets.values():
            await c.deliver(message(sheet))
        disputed = [
            sheets[(stays["id"], month2)],
            sheets[(stays["id"], month2)],
            sheets[(drops_in_month3["id"], month3)],
        ]
        for sheet in disputed:  # two disputes of one timesheet count once
            fields = (
                "timesheet_id",
                "enrolment_id",
                "child_id",
                "programme_id",
                "provider_id",
                "region_code",
                "period",
                "planned_sessions",
            )
            await c.deliver(
                message(
                    AttendanceDisputedV1(
                        **{k: getattr(sheet, k) for k in fields}, dispute_id=uuid4(), disputed_sessions=1
                    )
                )
            )
        cached = await client.get("/v1/programmes")
        complaint = await client.post(
            "/v1/complaints",
            json={
                "child_id": stays["child_id"],
                "programme_id": hockey["id"],
                "category": "conduct",
                "text": "The coach shouts at the children.",
            },
            headers=parent,
        )
        found = await client.get("/v1/programmes")
        one = await client.get(f"/v1/programmes/{hockey['id']}")
        admin = auth(token("administrator"))
        worst_disputes = await client.get(
            "/v1/admin/programmes/quality", params={"region_code": "astana", "sort": "-dispute_rate"}, headers=admin
        )
        by_retention = await client.get(
            "/v1/admin/programmes/quality", params={"region_code": "astana", "sort": "retention_3m"}, headers=admin
        )
        by_complaints = await client.get(
            "/v1/admin/programmes/quality",
            params={"region_code": "astana", "sort": "complaints", "limit": 1, "offset": 1},
            headers=admin,
        )
        scoped = await client.get(
            "/v1/admin/programmes/quality", headers=auth(token("operator", scope={"region": "astana"}))
        )
        foreign = await client.get(
            "/v1/admin/programmes/quality",
            params={"region_code": "astana"},
            headers=auth(token("operator", scope={"region": "almaty"})),
        )
        no_region = await client.get("/v1/admin/programmes/quality", headers=admin)
        by_parent = await client.get("/v1/admin/programmes/quality", params={"region_code": "astana"}, headers=parent)
        bad_sort = await client.get(
            "/v1/admin/programmes/quality", params={"region_code": "astana", "sort": "rating"}, headers=admin
        )
    expected = {
        "retention_2m": {"cohort": 3, "retained": 2, "rate": 0.667},  # the leaver ended inside month 2
        "retention_3m": {"cohort": 3, "retained": 1, "rate": 0.333},  # one more attended nothing in month 3
        "timesheets_submitted": 5,
        "timesheets_disputed": 2,
        "dispute_rate": 0.4,
        "complaints": 1,
        "complaints_open": 1,
    }
    empty = {
        "retention_2m": {"cohort": 0, "retained": 0, "rate": None},
        "retention_3m": {"cohort": 0, "retained": 0, "rate": None},
        "timesheets_submitted": 0,
        "timesheets_disputed": 0,
        "dispute_rate": None,
        "complaints": 0,
        "complaints_open": 0,
    }
    assert new["id"] not in {stays["id"], leaves_in_month2["id"], drops_in_month3["id"]}
    assert complaint.status_code == 201, complaint.text
    signals = {p["id"]: p["quality"] for p in found.json()["items"]}
    assert signals == {hockey["id"]: expected, chess["id"]: empty}
    assert {p["id"]: p["quality"]["complaints"] for p in cached.json()["items"]}[hockey["id"]] == 0
    assert one.json()["quality"] == expected
    assert [p["programme_id"] for p in worst_disputes.json()["items"]] == [hockey["id"], chess["id"]]  # nulls last
    assert worst_disputes.json()["items"][0]["quality"] == expected
    assert worst_disputes.json()["items"][0]["provider_name"] == "Barys Hockey School"
    assert [p["programme_id"] for p in by_retention.json()["items"]] == [hockey["id"], chess["id"]]
    assert by_complaints.json()["total"] == 2
    assert [p["programme_id"] for p in by_complaints.json()["items"]] == [hockey["id"]]
    assert scoped.json()["total"] == 2
    assert foreign.status_code == 422 and foreign.json()["errors"][0]["field"] == "region_code"
    assert no_region.status_code == 422 and no_region.json()["errors"][0]["field"] == "region_code"
    assert by_parent.status_code == 403
    assert bad_sort.status_code == 422 and bad_sort.json()["errors"][0]["field"] == "sort"
