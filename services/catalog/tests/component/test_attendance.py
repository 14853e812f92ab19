"""Catalog consumes attendance's timesheets: the first attended session, each month, disputes, and the expiry
sweep that frees the seat and voucher of an enrolment never attended."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from catalog.domain.attendance import period_of, window_end_period, zone
from qosym_chassis.consumer import Outcome
from qosym_contracts.attendance import (
    AttendanceDisputedV1,
    AttendanceSubmittedV1,
    DisputeResolvedV1,
    SessionMark,
)
from tests.support.events import message, region_event

from .support import auth, confirmed_enrolment, fetch, outbox_types, periodic, programme, seats, verified_provider

pytestmark = pytest.mark.component
ALMATY = zone("Asia/Almaty")


def submitted(
    enrolment: dict[str, Any], period: str, marks: list[tuple[date, str]], **kw: Any
) -> AttendanceSubmittedV1:
    sessions = [SessionMark(date=day, starts_at=time(16, 0), status=status) for day, status in marks]
    values: dict[str, Any] = {
        "timesheet_id": uuid4(),
        "enrolment_id": enrolment["id"],
        "child_id": enrolment["child_id"],
        "programme_id": enrolment["programme_id"],
        "provider_id": enrolment["provider_id"],
        "region_code": "astana",
        "district_code": "yesil",
        "period": period,
        "planned_sessions": len(marks),
        "attended_sessions": sum(status == "attended" for _, status in marks),
        "sessions": sessions,
        "confirm_by": datetime(2030, 1, 1, tzinfo=UTC),
    }
    values.update(kw)
    return AttendanceSubmittedV1(**values)


def first_of(period: str) -> date:
    year, month = period.split("-")
    return date(int(year), int(month), 1)


async def first_attended_at(url: str, enrolment_id: str) -> datetime | None:
    rows = await fetch(url, "SELECT first_attended_at FROM enrolment WHERE id = $1", UUID(enrolment_id))
    return rows[0]["first_attended_at"]


async def test_the_earliest_attended_session_is_kept_whatever_order_months_arrive_in(
    service_db, consumer, api_client, token
) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        c = await consumer("catalog", url)
        await c.deliver(message(region_event()))  # Asia/Almaty
        provider_id, staff = await verified_provider(client, token)
        prog = await programme(client, provider_id, staff)
        enrolment, _ = await confirmed_enrolment(client, c, token, prog)
        absent_only = submitted(enrolment, "2026-10", [(date(2026, 10, 6), "absent")])
        december = submitted(enrolment, "2026-12", [(date(2026, 12, 1), "absent"), (date(2026, 12, 3), "attended")])
        november = submitted(
            enrolment, "2026-11", [(date(2026, 11, 3), "cancelled_by_provider"), (date(2026, 11, 5), "attended")]
        )
        assert await c.deliver(message(absent_only)) is Outcome.APPLIED
        nothing_yet = await first_attended_at(url, enrolment["id"])
        assert await c.deliver(message(december)) is Outcome.APPLIED
        after_december = await first_attended_at(url, enrolment["id"])
        assert await c.deliver(message(november)) is Outcome.APPLIED
        assert await c.deliver(message(november)) is Outcome.DUPLICATE
        # December again under a new event id, and an older submission of November: nothing moves
        assert await c.deliver(message(december.model_copy(update={"event_id": uuid4()}))) is Outcome.APPLIED
        stale = november.model_copy(
            update={"event_id": uuid4(), "attended_sessions": 0, "occurred_at": november.occurred_at - timedelta(1)}
        )
        assert await c.deliver(message(stale)) is Outcome.APPLIED
    assert nothing_yet is None
    assert after_december == datetime(2026, 12, 3, 11, 0, tzinfo=UTC)  # 16:00 in Astana
    assert await first_attended_at(url, enrolment["id"]) == datetime(2026, 11, 5, 11, 0, tzinfo=UTC)
    months = await fetch(
        url,
        "SELECT period, attended_sessions, planned_sessions FROM attendance_month WHERE enrolment_id = $1 "
        "ORDER BY period",
        UUID(enrolment["id"]),
    )
    assert [(m["period"], m["attended_sessions"], m["planned_sessions"]) for m in months] == [
        ("2026-10", 0, 1),
        ("2026-11", 1, 2),
        ("2026-12", 1, 2),
    ]


async def test_disputes_are_recorded_per_timesheet_in_any_order(service_db, consumer, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        c = await consumer("catalog", url)
        provider_id, staff = await verified_provider(client, token)
        prog = await programme(client, provider_id, staff)
        enrolment, _ = await confirmed_enrolment(client, c, token, prog)
        sheet = submitted(enrolment, "2026-11", [(date(2026, 11, 5), "attended")])
        common = {
            k: getattr(sheet, k)
            for k in (
                "timesheet_id",
                "enrolment_id",
                "child_id",
                "programme_id",
                "provider_id",
                "region_code",
                "period",
                "planned_sessions",
            )
        }
        first, second = uuid4(), uuid4()
        resolved_early = DisputeResolvedV1(
            **common, dispute_id=second, payable_sessions=1, attended_sessions=1, outcome="provider_upheld"
        )
        for event in (
            sheet,
            AttendanceDisputedV1(**common, dispute_id=first, disputed_sessions=1),
            DisputeResolvedV1(
                **common, dispute_id=first, payable_sessions=0, attended_sessions=0, outcome="guardian_upheld"
            ),
            resolved_early,  # arrives before its AttendanceDisputed (a replay, say)
            AttendanceDisputedV1(**common, dispute_id=second, disputed_sessions=1),
        ):
            assert await c.deliver(message(event)) is Outcome.APPLIED
    rows = await fetch(url, "SELECT dispute_id, outcome, opened_at IS NOT NULL AS opened FROM timesheet_dispute")
    assert {(r["dispute_id"], r["outcome"], r["opened"]) for r in rows} == {
        (first, "guardian_upheld", True),
        (second, "provider_upheld", True),
    }


async def test_an_enrolment_never_attended_expires_only_once_its_timesheet_is_in(
    service_db, consumer, api_client, token
) -> None:
    url = await service_db("catalog")
    now = datetime.now(UTC)
    async with api_client("catalog", url) as client:
        c = await consumer("catalog", url)
        await c.deliver(message(region_event()))
        interval, sweep = periodic(c, "sweep_enrolments")
        provider_id, staff = await verified_provider(client, token)
        prog = await programme(client, provider_id, staff)
        unattended, parent = await confirmed_enrolment(client, c, token, prog)
        not_reported, _ = await confirmed_enrolment(client, c, token, prog)
        attended, _ = await confirmed_enrolment(client, c, token, prog)
        recent, _ = await confirmed_enrolment(client, c, token, prog)
        long_ago = now - timedelta(days=80)  # the 30-day window and the 10 grace days are over
        for enrolment in (unattended, not_reported, attended):
            await fetch(url, "UPDATE enrolment SET confirmed_at = $1 WHERE id = $2", long_ago, UUID(enrolment["id"]))
        last_month = window_end_period(long_ago, ALMATY, 30)
        await c.deliver(message(submitted(unattended, last_month, [(first_of(last_month), "absent")])))
        await c.deliver(message(submitted(attended, last_month, [(first_of(last_month), "attended")])))
        this_month = period_of(now, ALMATY)
        await c.deliver(message(submitted(recent, this_month, [(first_of(this_month), "absent")])))
        await client.get("/v1/programmes")  # cache a page with 6 free seats
        forbidden = await client.post("/v1/admin/enrolments/expire", headers=parent)
        expired = await sweep()
        again = await sweep()
        by_admin = await client.post("/v1/admin/enrolments/expire", headers=auth(token("administrator")))
        seen = await client.get(f"/v1/enrolments/{unattended['id']}", headers=parent)
        free = (await client.get("/v1/programmes")).json()["items"][0]["free_seats"]
    assert interval == 3600
    assert forbidden.status_code == 403
    assert (expired, again, by_admin.json()) == (1, 0, {"expired": 0})
    assert (seen.json()["status"], seen.json()["reason"]) == ("ended", "reservation_expired")
    statuses = await fetch(url, "SELECT id, status FROM enrolment")
    assert {str(r["id"]): r["status"] for r in statuses} == {
        unattended["id"]: "ended",
        not_reported["id"]: "confirmed",  # its timesheet is late: never expired for that
        attended["id"]: "confirmed",
        recent["id"]: "confirmed",
    }
    assert await seats(url, prog["id"]) == 3
    assert free == 7  # the sweep invalidated the cached search page
    ended = await fetch(
        url, "SELECT payload->>'reason' AS reason FROM outbox WHERE event_type = 'catalog.EnrolmentEnded'"
    )
    assert [r["reason"] for r in ended] == ["reservation_expired"]
    assert (await outbox_types(url)).count("catalog.EnrolmentEnded") == 1
