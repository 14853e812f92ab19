"""The set-based submission (schedule expansion, tally, payable rule in SQL) gives exactly what the pure rules in
domain/schedule.py and domain/rules.py give, over random groups, marks and region rules."""

from __future__ import annotations

import random
from datetime import time, timedelta

import pytest

from attendance.adapters import timesheet_repository
from attendance.domain.period import local_date, month_days, period_named
from attendance.domain.rules import AttendanceRules, ClosureDay, Tally, payable_sessions, planned_sessions
from attendance.domain.schedule import Slot, in_span, scheduled_sessions
from qosym_chassis.db import make_engine, make_session_factory
from qosym_contracts.catalog import ProgrammeSchedule

from .support import OCTOBER, api_at, auth, fetch, local, world

pytestmark = pytest.mark.component
STATUSES = ["attended", "absent", "cancelled_by_provider"]


def random_rules(rng: random.Random) -> AttendanceRules:
    return AttendanceRules(
        absent_sessions_payable=rng.random() < 0.5,
        provider_cancelled=rng.choice(["not_payable", "excluded_from_plan", "payable"]),
        min_attended_sessions=rng.randint(0, 4),
        min_attendance_percent=rng.choice([0, 0, 30, 50, 80]),
        public_holidays=rng.choice(["KZ", None]),
        closure_days=[ClosureDay(date=d, reason="closed") for d in rng.sample(month_days(OCTOBER), rng.randint(0, 3))],
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_sql_tally_and_payable_equal_the_pure_rules(service_db, consumer, api_client, token, seed) -> None:
    rng = random.Random(seed)
    w = await world(service_db, consumer)
    slots = [
        ProgrammeSchedule(weekday=d, start=time(h, 0), end=time(h + 1, 30))
        for d, h in {(rng.randint(1, 7), rng.choice([9, 15, 18])) for _ in range(rng.randint(1, 4))}
    ]
    programme_id = await w.programme(schedule=slots)
    enrolments = []
    for _ in range(12):
        since = local(2026, 9, 1) if rng.random() < 0.6 else local(2026, 10, rng.randint(1, 28), 8)
        enrolment_id, child_id, _ = await w.enrol(programme_id, since=since)
        if rng.random() < 0.2:
            await w.end(enrolment_id, child_id, since + timedelta(days=rng.randint(1, 20)))
        enrolments.append(enrolment_id)
    rules = random_rules(rng)
    staff = auth(token("provider_staff", scope={"provider": str(w.provider_id)}))
    async with api_at(api_client, w.url, local(2026, 11, 2, 10)) as client:
        put = await client.put(
            "/v1/regions/astana/attendance-rules",
            json=rules.model_dump(mode="json"),
            headers=auth(token("administrator")),
        )
        assert put.status_code == 200, put.text
        sheet = (await client.get(f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}", headers=staff)).json()
        marks = []
        for child in sheet["enrolments"]:
            for s in child["unmarked"]:
                if rng.random() < 0.9:
                    marks.append(
                        {
                            "enrolment_id": child["enrolment_id"],
                            "date": s["date"],
                            "starts_at": s["starts_at"],
                            "status": rng.choice(STATUSES),
                        }
                    )
            if rng.random() < 0.3:
                day = rng.choice([d for d in month_days(OCTOBER) if d.day >= 29])
                marks.append(
                    {
                        "enrolment_id": child["enrolment_id"],
                        "date": str(day),
                        "starts_at": "07:15",
                        "status": rng.choice(STATUSES),
                        "reason": "extra",
                    }
                )
        marks = [m for m in marks if _in_span(sheet, m)]
        response = await client.put(
            f"/v1/programmes/{programme_id}/timesheets/{OCTOBER}/marks", json={"marks": marks}, headers=staff
        )
        assert response.status_code == 200, response.text

    tz = "Asia/Almaty"
    period = period_named(OCTOBER, tz)
    closures = rules.closures_in(OCTOBER)
    sessions = scheduled_sessions(OCTOBER, [Slot.parse(s.model_dump(mode="json")) for s in slots], tz, closures)
    rows = await fetch(
        w.url,
        "SELECT t.id, e.starts_at, e.ended_at, array_agg(m.status) FILTER (WHERE m.status IS NOT NULL) AS statuses "
        "FROM timesheet t JOIN enrolment e ON e.id = t.enrolment_id LEFT JOIN session_mark m ON m.timesheet_id = t.id "
        "GROUP BY t.id, e.starts_at, e.ended_at ORDER BY t.id",
    )
    expected = {}
    for r in rows:
        first = local_date(r["starts_at"], tz)
        last = local_date(r["ended_at"], tz) if r["ended_at"] else None
        statuses = r["statuses"] or []
        in_span_n = sum(1 for s in sessions if in_span(s, first, last))
        tally = Tally(
            planned=len(sessions),
            in_span=in_span_n,
            attended=statuses.count("attended"),
            absent=statuses.count("absent"),
            cancelled=statuses.count("cancelled_by_provider"),
        )
        expected[r["id"]] = (tally, planned_sessions(tally, rules), payable_sessions(tally, rules))
    days = month_days(OCTOBER)
    engine = make_engine(w.url, application_name="test")
    try:
        async with make_session_factory(engine)() as session:
            got = await timesheet_repository.tally_only(
                session,
                {
                    "region": "astana",
                    "period": OCTOBER,
                    "tz": tz,
                    "first": days[0],
                    "last": days[-1],
                    "closed": sorted(closures),
                    "programmes": [programme_id],
                    "ids": None,
                },
                rules,
            )
    finally:
        await engine.dispose()
    assert period.name == OCTOBER
    assert len(got) == len(expected) >= 6
    for row in got:
        tally, planned, payable = expected[row["id"]]
        assert (row["planned"], row["in_span"], row["attended"], row["absent"], row["cancelled"]) == (
            tally.planned,
            tally.in_span,
            tally.attended,
            tally.absent,
            tally.cancelled,
        )
        assert (row["planned_eff"], row["payable"]) == (planned, payable)


def _in_span(sheet, mark) -> bool:
    child = next(c for c in sheet["enrolments"] if c["enrolment_id"] == mark["enrolment_id"])
    return mark["date"] >= child["first_day"] and (child["last_day"] is None or mark["date"] <= child["last_day"])
