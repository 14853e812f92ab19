"""Set-based submission and confirmation of many timesheets at once, with their outbox rows and decisions.

A month-end touches every active enrolment (500,000 nationwide): one statement per step, never a round trip
per timesheet. The payable rule here is the SQL twin of ``domain.rules.payable_sessions``
(tests/component/test_sql_matches_rules.py keeps them equal), the schedule expansion the twin of
``domain.schedule.scheduled_sessions``.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from attendance.domain.rules import AttendanceRules

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
    INSERT INTO outbox (event_id, event_type, topic, msg_key, payload)
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
                            FROM session_mark m WHERE m.timesheet_id = x.id))
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
    INSERT INTO outbox (event_id, event_type, topic, msg_key, payload)
    SELECT x.eid, 'attendance.AttendanceConfirmed', 'attendance.timesheet.v1', x.id::text,
           jsonb_build_object(
               'event_id', x.eid::text, 'event_type', 'attendance.AttendanceConfirmed', 'event_version', 1,
               'occurred_at', {json_instant("now")}, {TIMESHEET_FIELDS},
               'payable_sessions', x.payable_sessions, 'attended_sessions', x.attended_sessions, 'basis', x.basis)
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
