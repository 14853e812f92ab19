"""Timesheets and their session marks, late-submission permits and decisions: one month of one enrolment.

Set-based submission and confirmation of many timesheets at once, with their outbox rows and decisions:

A month-end touches every active enrolment (500,000 nationwide): one statement per step, never a round trip
per timesheet. The payable rule here is the SQL twin of ``domain.rules.payable_sessions``
(tests/component/test_sql_matches_rules.py keeps them equal), the schedule expansion the twin of
``domain.schedule.scheduled_sessions``.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession

from attendance.adapters.orm import decision, late_permit, session_mark, timesheet
from attendance.domain.period import Period
from attendance.domain.rules import AttendanceRules
from qosym_chassis import outbox

LONG_STATEMENT_TIMEOUT_S = 900.0
_NAMED = re.compile(r"(?<![:\w]):([a-z_]+)\b")


def json_instant(param: str) -> str:
    return f"""to_char(CAST(:{param} AS timestamptz) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


TIMESHEET_FIELDS = """
    'timesheet_id', x.id::text, 'enrolment_id', x.enrolment_id::text, 'child_id', x.child_id::text,
    'programme_id', x.programme_id::text, 'provider_id', x.provider_id::text, 'region_code', x.region_code,
    'period', x.period, 'planned_sessions', x.planned_sessions"""

PLANNED = """CASE WHEN CAST(:cancelled_policy AS text) = 'excluded_from_plan'
                  THEN greatest(t.planned - t.cancelled, 0) ELSE t.planned END"""

PAYABLE = f"""CASE WHEN t.attended < CAST(:min_attended AS int)
                    OR t.attended * 100 < CAST(:min_percent AS int) * t.in_span THEN 0
               ELSE least(t.attended
                          + CASE WHEN CAST(:absent_payable AS boolean) THEN t.absent ELSE 0 END
                          + CASE WHEN CAST(:cancelled_policy AS text) = 'payable' THEN t.cancelled ELSE 0 END,
                          {PLANNED}) END"""

TALLY = """
WITH chosen AS (
    SELECT t.id, t.programme_id,
           (e.starts_at AT TIME ZONE CAST(:tz AS text))::date AS first_day,
           (e.ended_at AT TIME ZONE CAST(:tz AS text))::date AS last_day
    FROM timesheet t JOIN enrolment e ON e.id = t.enrolment_id
    WHERE t.region_code = CAST(:region AS text) AND t.period = CAST(:period AS text) AND t.status = 'draft'
      AND t.programme_id = ANY(CAST(:programmes AS uuid[]))
      AND (CAST(:ids AS uuid[]) IS NULL OR t.id = ANY(CAST(:ids AS uuid[])))
), slots AS (
    SELECT p.id AS programme_id, d::date AS day,
           ((d::date + (s ->> 'start')::time) AT TIME ZONE CAST(:tz AS text)) AS starts_at
    FROM programme p
    CROSS JOIN generate_series(CAST(:first AS date), CAST(:last AS date), interval '1 day') AS d
    CROSS JOIN jsonb_array_elements(p.schedule) AS s
    WHERE p.id = ANY(CAST(:programmes AS uuid[]))
      AND extract(isodow FROM d) = (s ->> 'weekday')::int
      AND NOT (d::date = ANY(CAST(:closed AS date[])))
), planned AS (
    SELECT programme_id, count(*) AS n FROM slots GROUP BY programme_id
), span AS (
    SELECT c.id, count(sl.starts_at) AS in_span,
           count(sl.starts_at) FILTER (WHERE m.timesheet_id IS NULL) AS missing
    FROM chosen c
    LEFT JOIN slots sl ON sl.programme_id = c.programme_id AND sl.day >= c.first_day
                      AND (c.last_day IS NULL OR sl.day <= c.last_day)
    LEFT JOIN session_mark m ON m.timesheet_id = c.id AND m.starts_at = sl.starts_at
    GROUP BY c.id
), marks AS (
    SELECT m.timesheet_id,
           count(*) FILTER (WHERE m.status = 'attended') AS attended,
           count(*) FILTER (WHERE m.status = 'absent') AS absent,
           count(*) FILTER (WHERE m.status = 'cancelled_by_provider') AS cancelled
    FROM session_mark m JOIN chosen c ON c.id = m.timesheet_id
    GROUP BY m.timesheet_id
), tallied AS (
    SELECT c.id, coalesce(pl.n, 0)::int AS planned, s.in_span::int AS in_span, s.missing::int AS missing,
           coalesce(mk.attended, 0)::int AS attended, coalesce(mk.absent, 0)::int AS absent,
           coalesce(mk.cancelled, 0)::int AS cancelled
    FROM chosen c JOIN span s ON s.id = c.id
    LEFT JOIN planned pl ON pl.programme_id = c.programme_id
    LEFT JOIN marks mk ON mk.timesheet_id = c.id
)"""

SUBMIT = f"""{TALLY},
submitted AS (
    UPDATE timesheet ts
    SET status = 'submitted', rules_revision = CAST(:rules_revision AS int),
        scheduled_sessions = t.planned, planned_sessions = {PLANNED}, span_sessions = t.in_span, attended_sessions = t.attended,
        absent_sessions = t.absent, cancelled_sessions = t.cancelled, payable_on_confirm = {PAYABLE},
        on_no_answer = CAST(:no_answer AS text), confirm_by = CAST(:confirm_by AS timestamptz),
        late = CAST(:late AS boolean), submitted_at = CAST(:now AS timestamptz), submitted_by = CAST(:actor AS text)
    FROM tallied t
    WHERE ts.id = t.id AND t.missing = 0 AND ts.status = 'draft'
    RETURNING ts.*
), x AS (
    SELECT s.*, gen_random_uuid() AS eid FROM submitted s
), events AS (
    INSERT INTO outbox (event_id, event_type, topic, msg_key, payload, headers)
    SELECT x.eid, 'attendance.AttendanceSubmitted', 'attendance.timesheet.v1', x.id::text,
           jsonb_build_object(
               'event_id', x.eid::text, 'event_type', 'attendance.AttendanceSubmitted', 'event_version', 1,
               'occurred_at', {json_instant("now")}, {TIMESHEET_FIELDS},
               'district_code', x.district_code, 'attended_sessions', x.attended_sessions,
               'confirm_by', {json_instant("confirm_by")}, 'late', x.late,
               'sessions', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                'date', m.session_date::text,
                                'starts_at', to_char(m.starts_at AT TIME ZONE CAST(:tz AS text), 'HH24:MI:SS'),
                                'status', m.status) ORDER BY m.starts_at), '[]'::jsonb)
                            FROM session_mark m WHERE m.timesheet_id = x.id)),
           CAST(:headers AS jsonb)
    FROM x
), log AS (
    INSERT INTO decision (timesheet_id, action, actor, at, detail)
    SELECT x.id, 'submitted', CAST(:actor AS text), CAST(:now AS timestamptz),
           jsonb_build_object('late', x.late, 'rules_revision', x.rules_revision,
                              'payable_on_confirm', x.payable_on_confirm, 'planned_sessions', x.planned_sessions)
    FROM x
)
SELECT t.id, t.missing, (t.missing = 0) AS submitted FROM tallied t
"""

CONFIRMED_EVENTS = f"""
x AS (
    SELECT c.*, gen_random_uuid() AS eid FROM confirmed c
), events AS (
    INSERT INTO outbox (event_id, event_type, topic, msg_key, payload, headers)
    SELECT x.eid, 'attendance.AttendanceConfirmed', 'attendance.timesheet.v1', x.id::text,
           jsonb_build_object(
               'event_id', x.eid::text, 'event_type', 'attendance.AttendanceConfirmed', 'event_version', 1,
               'occurred_at', {json_instant("now")}, {TIMESHEET_FIELDS},
               'payable_sessions', x.payable_sessions, 'attended_sessions', x.attended_sessions, 'basis', x.basis),
           CAST(:headers AS jsonb)
    FROM x
), log AS (
    INSERT INTO decision (timesheet_id, action, actor, at, detail)
    SELECT x.id, x.basis, CAST(:actor AS text), CAST(:now AS timestamptz),
           jsonb_build_object('payable_sessions', x.payable_sessions)
    FROM x
)
SELECT x.id FROM x
"""

CONFIRM_BY_GUARDIAN = f"""
WITH confirmed AS (
    UPDATE timesheet
    SET status = 'confirmed', basis = 'guardian_confirmed', payable_sessions = payable_on_confirm,
        decided_at = CAST(:now AS timestamptz), decided_by = CAST(:actor AS text)
    WHERE id = ANY(CAST(:ids AS uuid[])) AND status = 'submitted' AND confirm_by > CAST(:now AS timestamptz)
    RETURNING *
), {CONFIRMED_EVENTS}"""

DEEM_CONFIRMED = f"""
WITH confirmed AS (
    UPDATE timesheet
    SET status = 'confirmed', basis = 'deemed_confirmed', payable_sessions = payable_on_confirm,
        decided_at = CAST(:now AS timestamptz), decided_by = CAST(:actor AS text)
    WHERE status = 'submitted' AND confirm_by <= CAST(:now AS timestamptz) AND on_no_answer = 'deemed_confirmed'
      AND (CAST(:region AS text) IS NULL OR region_code = CAST(:region AS text))
    RETURNING *
), {CONFIRMED_EVENTS}"""

LAPSE = """
WITH lapsed AS (
    UPDATE timesheet
    SET status = 'lapsed', decided_at = CAST(:now AS timestamptz), decided_by = CAST(:actor AS text)
    WHERE status = 'submitted' AND confirm_by <= CAST(:now AS timestamptz) AND on_no_answer = 'not_payable'
      AND (CAST(:region AS text) IS NULL OR region_code = CAST(:region AS text))
    RETURNING id
), log AS (
    INSERT INTO decision (timesheet_id, action, actor, at, detail)
    SELECT id, 'lapsed', CAST(:actor AS text), CAST(:now AS timestamptz),
           '{"why": "no answer from a guardian by the deadline; the region pays only confirmed months"}'::jsonb
    FROM lapsed
)
SELECT id FROM lapsed
"""


async def fetch_long(session: AsyncSession, sql: str, params: dict[str, Any]) -> list[Any]:
    """Run a set-based statement on the session's own connection and transaction, with a longer timeout than
    the pool's per-command default (a whole region's month-end takes longer)."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    if ":headers" in sql:  # it stages outbox rows: with the stager's trace context, as outbox.add_events would
        params = {**params, "headers": json.dumps(outbox.trace_headers())}
    positional = _NAMED.sub(number, sql)
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    return list(await driver.fetch(positional, *(params[n] for n in names), timeout=LONG_STATEMENT_TIMEOUT_S))


def rule_params(rules: AttendanceRules) -> dict[str, Any]:
    return {
        "cancelled_policy": rules.provider_cancelled,
        "min_attended": rules.min_attended_sessions,
        "min_percent": rules.min_attendance_percent,
        "absent_payable": rules.absent_sessions_payable,
        "no_answer": rules.no_answer,
    }


async def submit(
    session: AsyncSession,
    *,
    region_code: str,
    period: str,
    tz: str,
    month: tuple[date, date],
    closed: list[date],
    programme_ids: list[UUID],
    timesheet_ids: list[UUID] | None,
    rules_revision: int,
    rules: AttendanceRules,
    confirm_by: datetime,
    late: bool,
    now: datetime,
    actor: str,
) -> list[Any]:
    """Submit every complete draft of the programmes (or of the listed timesheets); rows (id, missing, submitted)."""
    params = {
        "region": region_code,
        "period": period,
        "tz": tz,
        "first": month[0],
        "last": month[1],
        "closed": closed,
        "programmes": programme_ids,
        "ids": timesheet_ids,
        "rules_revision": rules_revision,
        "confirm_by": confirm_by,
        "late": late,
        "now": now,
        "actor": actor,
        **rule_params(rules),
    }
    return await fetch_long(session, SUBMIT, params)


async def tally_only(session: AsyncSession, params: dict[str, Any], rules: AttendanceRules) -> list[Any]:
    """The tally and the payable figure of drafts without submitting them (used to check SQL against the rules)."""
    sql = f"{TALLY} SELECT t.*, {PLANNED} AS planned_eff, {PAYABLE} AS payable FROM tallied t ORDER BY t.id"
    return await fetch_long(session, sql, {**params, **rule_params(rules)})


async def confirm_by_guardian(session: AsyncSession, ids: list[UUID], now: datetime, actor: str) -> list[UUID]:
    rows = await fetch_long(session, CONFIRM_BY_GUARDIAN, {"ids": ids, "now": now, "actor": actor})
    return [r["id"] for r in rows]


async def deem_confirmed(session: AsyncSession, now: datetime, region_code: str | None = None) -> int:
    rows = await fetch_long(
        session, DEEM_CONFIRMED, {"now": now, "actor": "system:confirmation_deadline", "region": region_code}
    )
    return len(rows)


async def lapse_unanswered(session: AsyncSession, now: datetime, region_code: str | None = None) -> int:
    rows = await fetch_long(
        session, LAPSE, {"now": now, "actor": "system:confirmation_deadline", "region": region_code}
    )
    return len(rows)


# --- one month at a time ------------------------------------------------------------------------------------


async def ensure_drafts(session: AsyncSession, programme_ids: list[UUID], period: Period, now: datetime) -> None:
    """A draft timesheet for every enrolment of the programmes active in the period (set-based)."""
    await session.execute(
        text(
            """
            INSERT INTO timesheet (id, enrolment_id, period, child_id, programme_id, provider_id, region_code,
                                   district_code, status, created_at)
            SELECT gen_random_uuid(), e.id, :period, e.child_id, e.programme_id, e.provider_id, e.region_code,
                   e.district_code, 'draft', :now
            FROM enrolment e
            WHERE e.programme_id = ANY(:programmes) AND e.starts_at < :ends
              AND (e.ended_at IS NULL OR e.ended_at >= :starts)
            ON CONFLICT (enrolment_id, period) DO NOTHING
            """
        ),
        {
            "period": period.name,
            "now": now,
            "programmes": programme_ids,
            "ends": period.ends_at,
            "starts": period.starts_at,
        },
    )


async def of_programme(session: AsyncSession, programme_id: UUID, period: str) -> dict[UUID, dict[str, Any]]:
    """The programme's timesheets of the period, by enrolment id."""
    rows = await session.execute(
        select(timesheet).where(timesheet.c.programme_id == programme_id, timesheet.c.period == period)
    )
    return {r["enrolment_id"]: dict(r) for r in rows.mappings()}


async def get(session: AsyncSession, timesheet_id: UUID, *, lock: bool = False) -> dict[str, Any] | None:
    query = select(timesheet).where(timesheet.c.id == timesheet_id)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).mappings().first()
    return dict(row) if row else None


async def ids_of_enrolments(session: AsyncSession, enrolment_ids: list[UUID], period: str) -> list[UUID]:
    rows = await session.execute(
        select(timesheet.c.id).where(timesheet.c.enrolment_id.in_(enrolment_ids), timesheet.c.period == period)
    )
    return list(rows.scalars())


async def enrolments_of(session: AsyncSession, timesheet_ids: list[UUID]) -> dict[UUID, UUID]:
    """Each timesheet's enrolment id."""
    rows = await session.execute(
        select(timesheet.c.id, timesheet.c.enrolment_id).where(timesheet.c.id.in_(timesheet_ids))
    )
    return {timesheet_id: enrolment_id for timesheet_id, enrolment_id in rows.all()}


async def update_month(session: AsyncSession, timesheet_id: UUID, **values: Any) -> None:
    await session.execute(update(timesheet).where(timesheet.c.id == timesheet_id).values(**values))


# --- marks ------------------------------------------------------------------------------------------------------


MARK_UPDATES = ("status", "reason", "scheduled", "closure_day", "marked_by", "marked_at", "ends_at")


async def put_marks(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert the marks, or overwrite the mark of the same session."""
    statement = upsert(session_mark).values(rows)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[session_mark.c.timesheet_id, session_mark.c.starts_at],
            set_={c: statement.excluded[c] for c in MARK_UPDATES},
        )
    )


async def marks_of(session: AsyncSession, timesheet_ids: list[UUID]) -> list[dict[str, Any]]:
    """The marks of the timesheets, in session order."""
    rows = await session.execute(
        select(session_mark)
        .where(session_mark.c.timesheet_id.in_(timesheet_ids))
        .order_by(session_mark.c.timesheet_id, session_mark.c.starts_at)
    )
    return [dict(m) for m in rows.mappings()]


async def set_mark_status(
    session: AsyncSession, timesheet_id: UUID, starts_at: datetime, status: str, actor: str, now: datetime
) -> None:
    await session.execute(
        update(session_mark)
        .where(session_mark.c.timesheet_id == timesheet_id, session_mark.c.starts_at == starts_at)
        .values(status=status, marked_by=actor, marked_at=now)
    )


# --- late submission and decisions ------------------------------------------------------------------------------


async def permitted_late(session: AsyncSession, programme_ids: list[UUID], period: str, now: datetime) -> set[UUID]:
    """The programmes with a late-submission permit for the period still valid at ``now``."""
    rows = await session.execute(
        select(late_permit.c.programme_id).where(
            late_permit.c.programme_id.in_(programme_ids),
            late_permit.c.period == period,
            late_permit.c.valid_until > now,
        )
    )
    return set(rows.scalars())


async def grant_late(session: AsyncSession, values: dict[str, Any]) -> None:
    """A programme's permit for a period (a new grant replaces the previous one)."""
    statement = upsert(late_permit).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[late_permit.c.programme_id, late_permit.c.period],
            set_={k: statement.excluded[k] for k in ("granted_by", "granted_at", "valid_until", "reason")},
        )
    )


async def add_decision(
    session: AsyncSession, timesheet_id: UUID, action: str, actor: str, at: datetime, detail: dict[str, Any]
) -> None:
    await session.execute(
        insert(decision).values(timesheet_id=timesheet_id, action=action, actor=actor, at=at, detail=detail)
    )


async def decisions_of(session: AsyncSession, timesheet_id: UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(decision).where(decision.c.timesheet_id == timesheet_id).order_by(decision.c.id)
    )
    return [dict(d) for d in rows.mappings()]
