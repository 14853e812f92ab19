"""Risk flags: the risk rules as set-based queries over submitted months, raising their flags with outbox events;
reading and reviewing one flag.

Each rule yields candidate flags (rule, subject, period, severity, summary, evidence); a flag is raised once
per rule, subject and period (a unique key), with its RiskFlagRaised event in the same statement.
Only submitted months count (a draft may still change); the evidence holds ids, times and counts, never names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from attendance.adapters.orm import risk_flag
from attendance.adapters.timesheet_repository import fetch_long, json_instant
from attendance.domain.risk import RiskThresholds

SUBMITTED = "t.status <> 'draft' AND (CAST(:region AS text) IS NULL OR t.region_code = CAST(:region AS text))"

# one row per group session in which at least one child was marked present
HELD = f"""
held AS (
    SELECT t.programme_id, t.provider_id, t.region_code, t.district_code, m.starts_at, m.ends_at,
           count(*) AS present, p.coach_ids, p.facility_id, p.facility_capacity
    FROM timesheet t
    JOIN session_mark m ON m.timesheet_id = t.id AND m.status = 'attended'
    JOIN programme p ON p.id = t.programme_id
    WHERE t.period = CAST(:period AS text) AND {SUBMITTED}
    GROUP BY t.programme_id, t.provider_id, t.region_code, t.district_code, m.starts_at, m.ends_at,
             p.coach_ids, p.facility_id, p.facility_capacity
)"""

COACH_DOUBLE_BOOKED = f"""
WITH {HELD}, by_coach AS (
    SELECT coach, h.* FROM held h CROSS JOIN LATERAL unnest(h.coach_ids) AS coach
), clashes AS (
    SELECT a.coach, a.region_code, a.starts_at AS a_starts, b.starts_at AS b_starts,
           a.programme_id AS a_programme, b.programme_id AS b_programme, a.provider_id AS a_provider,
           b.provider_id AS b_provider, a.district_code AS a_district, b.district_code AS b_district
    FROM by_coach a JOIN by_coach b
      ON b.coach = a.coach AND a.programme_id < b.programme_id
     AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
)
SELECT 'coach_double_booked' AS rule, 'staff' AS subject_type, coach AS subject_id,
       CASE WHEN bool_and(a_provider = b_provider) AND count(DISTINCT a_provider) = 1
            THEN min(a_provider::text)::uuid END AS provider_id,
       min(region_code) AS region_code, 'high' AS severity,
       format('a coach was marked teaching two groups at overlapping times in %s session(s), districts %s',
              count(*), string_agg(DISTINCT a_district || '/' || b_district, ', ')) AS summary,
       jsonb_build_object('clashes', jsonb_agg(jsonb_build_object(
           'programme_ids', jsonb_build_array(a_programme, b_programme),
           'provider_ids', jsonb_build_array(a_provider, b_provider),
           'districts', jsonb_build_array(a_district, b_district),
           'starts_at', jsonb_build_array(a_starts, b_starts)) ORDER BY a_starts)) AS evidence
FROM clashes GROUP BY coach
"""

FACILITY_OVER_CAPACITY = f"""
WITH {HELD}, crowded AS (
    SELECT a.facility_id, a.region_code, a.starts_at, max(a.facility_capacity) AS capacity,
           a.present + coalesce(sum(b.present), 0) AS present,
           jsonb_agg(DISTINCT b.programme_id) FILTER (WHERE b.programme_id IS NOT NULL) AS overlapping,
           a.programme_id
    FROM held a
    LEFT JOIN held b ON b.facility_id = a.facility_id AND b.programme_id <> a.programme_id
                    AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
    WHERE a.facility_id IS NOT NULL AND a.facility_capacity IS NOT NULL
    GROUP BY a.facility_id, a.region_code, a.programme_id, a.starts_at, a.present
    HAVING a.present + coalesce(sum(b.present), 0) > max(a.facility_capacity)
)
SELECT 'facility_over_capacity' AS rule, 'facility' AS subject_type, facility_id AS subject_id,
       NULL::uuid AS provider_id, min(region_code) AS region_code,
       CASE WHEN max(present) >= 2 * max(capacity) THEN 'high' ELSE 'medium' END AS severity,
       format('up to %s children marked present at once in a facility that holds %s (%s session(s))',
              max(present), max(capacity), count(DISTINCT starts_at)) AS summary,
       jsonb_build_object('capacity', max(capacity), 'sessions', jsonb_agg(jsonb_build_object(
           'starts_at', starts_at, 'present', present, 'programme_id', programme_id,
           'overlapping_programme_ids', coalesce(overlapping, '[]'::jsonb)) ORDER BY starts_at)) AS evidence
FROM crowded GROUP BY facility_id
"""

CLOSURE_DAY_ATTENDANCE = f"""
SELECT 'closure_day_attendance' AS rule, 'programme' AS subject_type, t.programme_id AS subject_id,
       min(t.provider_id::text)::uuid AS provider_id, min(t.region_code) AS region_code, 'medium' AS severity,
       format('children marked present on %s closure day(s)', count(DISTINCT m.session_date)) AS summary,
       jsonb_build_object('sessions', jsonb_agg(jsonb_build_object(
           'date', m.session_date, 'starts_at', m.starts_at, 'timesheet_id', t.id, 'reason', m.reason)
           ORDER BY m.starts_at)) AS evidence
FROM timesheet t JOIN session_mark m ON m.timesheet_id = t.id
WHERE t.period = CAST(:period AS text) AND {SUBMITTED} AND m.closure_day AND m.status = 'attended'
GROUP BY t.programme_id
"""

IDENTICAL_PATTERNS = f"""
WITH months AS (
    SELECT to_char(to_date(CAST(:period AS text), 'YYYY-MM') - make_interval(months => n), 'YYYY-MM') AS period
    FROM generate_series(0, CAST(:identical_months AS int) - 1) AS n
), patterns AS (
    SELECT t.programme_id, t.period, t.provider_id, t.region_code, t.id,
           string_agg(to_char(m.starts_at, 'YYYY-MM-DD"T"HH24:MI') || '=' || m.status, ',' ORDER BY m.starts_at)
               AS pattern
    FROM timesheet t JOIN session_mark m ON m.timesheet_id = t.id
    WHERE t.period IN (SELECT period FROM months) AND {SUBMITTED}
    GROUP BY t.programme_id, t.period, t.provider_id, t.region_code, t.id
), uniform AS (
    SELECT programme_id, period, min(provider_id::text) AS provider_id, min(region_code) AS region_code,
           count(*) AS children
    FROM patterns GROUP BY programme_id, period
    HAVING count(*) >= CAST(:identical_children AS int) AND count(DISTINCT pattern) = 1
)
SELECT 'identical_patterns' AS rule, 'programme' AS subject_type, programme_id AS subject_id,
       min(provider_id)::uuid AS provider_id, min(region_code) AS region_code, 'medium' AS severity,
       format('every child of the group has the same attendance, session by session, for %s months in a row',
              count(*)) AS summary,
       jsonb_build_object('months', jsonb_agg(jsonb_build_object('period', period, 'children', children)
                                              ORDER BY period)) AS evidence
FROM uniform GROUP BY programme_id
HAVING count(*) = CAST(:identical_months AS int)
"""

GUARDIAN_NEVER_CONFIRMS = f"""
WITH months AS (
    SELECT to_char(to_date(CAST(:period AS text), 'YYYY-MM') - make_interval(months => n), 'YYYY-MM') AS period
    FROM generate_series(0, CAST(:silent_months AS int) - 1) AS n
), recent AS (
    SELECT t.child_id, t.period, t.id, t.provider_id, t.region_code,
           EXISTS (SELECT 1 FROM decision d WHERE d.timesheet_id = t.id
                   AND d.action IN ('guardian_confirmed', 'disputed')) AS answered,
           t.status = 'lapsed' OR (t.status = 'confirmed' AND t.basis = 'deemed_confirmed') AS unanswered
    FROM timesheet t
    WHERE t.period IN (SELECT period FROM months) AND {SUBMITTED}
)
SELECT 'guardian_never_confirms' AS rule, 'child' AS subject_type, child_id AS subject_id,
       CASE WHEN count(DISTINCT provider_id) = 1 THEN min(provider_id::text)::uuid END AS provider_id,
       min(region_code) AS region_code, 'low' AS severity,
       format('no guardian answered the child''s attendance for %s months in a row', count(DISTINCT period))
           AS summary,
       jsonb_build_object('timesheet_ids', jsonb_agg(id ORDER BY period), 'periods',
                          jsonb_agg(DISTINCT period)) AS evidence
FROM recent
GROUP BY child_id
HAVING bool_and(unanswered AND NOT answered) AND count(DISTINCT period) = CAST(:silent_months AS int)
   AND bool_or(period = CAST(:period AS text))
"""

ENROLLED_IN_TWO_REGIONS = """
SELECT 'enrolled_in_two_regions' AS rule, 'child' AS subject_type, t.child_id AS subject_id,
       NULL::uuid AS provider_id, min(t.region_code) AS region_code, 'high' AS severity,
       format('the child''s attendance was submitted in %s regions for the same month: %s',
              count(DISTINCT t.region_code), string_agg(DISTINCT t.region_code, ', ')) AS summary,
       jsonb_build_object('timesheets', jsonb_agg(jsonb_build_object(
           'timesheet_id', t.id, 'enrolment_id', t.enrolment_id, 'region_code', t.region_code,
           'provider_id', t.provider_id, 'status', t.status) ORDER BY t.region_code)) AS evidence
FROM timesheet t
WHERE t.period = CAST(:period AS text) AND t.status <> 'draft'
GROUP BY t.child_id
HAVING count(DISTINCT t.region_code) > 1
   AND (CAST(:region AS text) IS NULL OR bool_or(t.region_code = CAST(:region AS text)))
"""

DROP_AFTER_INSPECTION = """
WITH notices AS (
    SELECT i.* FROM inspection i
    WHERE i.announced_at >= CAST(:period_starts AS timestamptz) AND i.announced_at < CAST(:period_ends AS timestamptz)
      AND (CAST(:region AS text) IS NULL OR i.region_code = CAST(:region AS text))
), rates AS (
    SELECT n.id AS inspection_id, n.announced_at, t.provider_id, min(t.region_code) AS region_code,
           count(*) FILTER (WHERE m.starts_at < n.announced_at AND m.status = 'attended') AS before_attended,
           count(*) FILTER (WHERE m.starts_at < n.announced_at) AS before_marked,
           count(*) FILTER (WHERE m.starts_at >= n.announced_at AND m.status = 'attended') AS after_attended,
           count(*) FILTER (WHERE m.starts_at >= n.announced_at) AS after_marked
    FROM notices n
    JOIN timesheet t ON t.region_code = n.region_code
                    AND (n.district_code IS NULL OR t.district_code = n.district_code)
                    AND (n.provider_id IS NULL OR t.provider_id = n.provider_id)
                    AND t.status <> 'draft'
    JOIN session_mark m ON m.timesheet_id = t.id AND m.status IN ('attended', 'absent')
     AND m.starts_at >= n.announced_at - make_interval(days => CAST(:baseline_days AS int))
     AND m.starts_at < n.announced_at + make_interval(days => CAST(:after_days AS int))
    GROUP BY n.id, n.announced_at, t.provider_id
)
SELECT 'drop_after_inspection_notice' AS rule, 'provider' AS subject_type, provider_id AS subject_id,
       provider_id, region_code, 'high' AS severity,
       format('marked attendance fell from %s%% to %s%% of sessions after an inspection was announced',
              round(100.0 * before_attended / before_marked), round(100.0 * after_attended / after_marked))
           AS summary,
       jsonb_build_object('inspection_id', inspection_id, 'announced_at', announced_at,
                          'before', jsonb_build_object('attended', before_attended, 'marked', before_marked),
                          'after', jsonb_build_object('attended', after_attended, 'marked', after_marked)) AS evidence
FROM rates
WHERE before_marked >= CAST(:min_sessions AS int) AND after_marked >= CAST(:min_sessions AS int)
  AND after_attended * 100 * before_marked
      < before_attended * after_marked * (100 - CAST(:drop_percent AS int))
"""

RULES: dict[str, str] = {
    "coach_double_booked": COACH_DOUBLE_BOOKED,
    "facility_over_capacity": FACILITY_OVER_CAPACITY,
    "closure_day_attendance": CLOSURE_DAY_ATTENDANCE,
    "identical_patterns": IDENTICAL_PATTERNS,
    "guardian_never_confirms": GUARDIAN_NEVER_CONFIRMS,
    "enrolled_in_two_regions": ENROLLED_IN_TWO_REGIONS,
    "drop_after_inspection_notice": DROP_AFTER_INSPECTION,
}


def _raise(candidates: str) -> str:
    return f"""
WITH candidates AS ({candidates}),
raised AS (
    INSERT INTO risk_flag (id, rule, subject_type, subject_id, provider_id, region_code, period, severity, summary,
                           evidence, raised_at)
    SELECT gen_random_uuid(), c.rule, c.subject_type, c.subject_id, c.provider_id, c.region_code,
           CAST(:period AS text), c.severity, left(c.summary, 500), c.evidence, CAST(:now AS timestamptz)
    FROM candidates c
    ON CONFLICT (rule, subject_id, period) DO NOTHING
    RETURNING *
), x AS (
    SELECT r.*, gen_random_uuid() AS eid FROM raised r
), events AS (
    INSERT INTO outbox (event_id, event_type, topic, msg_key, payload, headers)
    SELECT x.eid, 'attendance.RiskFlagRaised', 'attendance.risk.v1', x.subject_id::text,
           jsonb_build_object(
               'event_id', x.eid::text, 'event_type', 'attendance.RiskFlagRaised', 'event_version', 1,
               'occurred_at', {json_instant("now")}, 'flag_id', x.id::text, 'rule', x.rule,
               'subject_type', x.subject_type, 'subject_id', x.subject_id::text,
               'provider_id', x.provider_id::text, 'region_code', x.region_code, 'period', x.period,
               'severity', x.severity, 'summary', x.summary),
           CAST(:headers AS jsonb)
    FROM x
)
SELECT x.id, x.rule FROM x
"""


async def raise_flags(
    session: AsyncSession,
    rule: str,
    *,
    period: str,
    period_starts: datetime,
    period_ends: datetime,
    region_code: str | None,
    thresholds: RiskThresholds,
    now: datetime,
) -> list[Any]:
    """Raise the rule's new flags for the period; a flag already raised for that subject and period stays one."""
    sql = _raise(RULES[rule])
    params: dict[str, Any] = {
        "period": period,
        "region": region_code,
        "now": now,
        "period_starts": period_starts,
        "period_ends": period_ends,
        "identical_months": thresholds.identical_months,
        "identical_children": thresholds.identical_min_children,
        "silent_months": thresholds.silent_months,
        "baseline_days": thresholds.inspection_baseline_days,
        "after_days": thresholds.inspection_after_days,
        "min_sessions": thresholds.inspection_min_sessions,
        "drop_percent": thresholds.inspection_drop_percent,
    }
    return await fetch_long(session, sql, params)


async def get(session: AsyncSession, flag_id: UUID, *, lock: bool = False) -> dict[str, Any] | None:
    query = select(risk_flag).where(risk_flag.c.id == flag_id)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).mappings().first()
    return dict(row) if row else None


async def review(
    session: AsyncSession, flag_id: UUID, *, status: str, reviewed_by: str, reviewed_at: datetime, note: str
) -> dict[str, Any]:
    """Record a flag's review; the flag as it now stands."""
    row = (
        (
            await session.execute(
                update(risk_flag)
                .where(risk_flag.c.id == flag_id)
                .values(status=status, reviewed_by=reviewed_by, reviewed_at=reviewed_at, review_note=note)
                .returning(*risk_flag.c)
            )
        )
        .mappings()
        .one()
    )
    return dict(row)
