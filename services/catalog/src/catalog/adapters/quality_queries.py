"""Quality signals per programme, computed in SQL from catalog's own tables at query time.

- **Retention after k months** (k = 2, 3): of the enrolments confirmed at least k months (plus the timesheet grace
  days) ago, the share that were not ended before their k-th month was over and attended at least one session in
  it. Month 1 is the local calendar month of the confirmation; months are the region's (its time zone).
- **Dispute rate**: timesheets (enrolment × month) with at least one dispute / timesheets submitted.
- **Complaints**: all filed, and those still open.

The SQL takes a ``scope`` of programmes (the ids of a search page, or a region's programmes) so that nothing is
aggregated for programmes nobody asked about.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

SIGNALS = """
months AS (
    SELECT e.id, e.programme_id, e.ended_at, k.k,
           to_char(l.first_month + make_interval(months => k.k - 1), 'YYYY-MM') AS period,
           (l.first_month + make_interval(months => k.k)) AT TIME ZONE s.tz AS over_at
    FROM enrolment e
    JOIN scope s ON s.id = e.programme_id
    CROSS JOIN LATERAL (SELECT date_trunc('month', e.confirmed_at AT TIME ZONE s.tz) AS first_month) AS l
    CROSS JOIN (VALUES (2), (3)) AS k(k)
    WHERE e.confirmed_at IS NOT NULL
      AND e.confirmed_at <= CAST(:now AS timestamptz) - make_interval(months => k.k, days => CAST(:grace AS int))
),
retention AS (
    SELECT m.programme_id, m.k, count(*) AS cohort,
           count(*) FILTER (WHERE a.enrolment_id IS NOT NULL AND (m.ended_at IS NULL OR m.ended_at >= m.over_at))
               AS retained
    FROM months m
    LEFT JOIN attendance_month a
           ON a.enrolment_id = m.id AND a.period = m.period AND a.attended_sessions > 0
    GROUP BY m.programme_id, m.k
),
sheets AS (
    SELECT a.programme_id, count(*) AS submitted
    FROM attendance_month a JOIN scope s ON s.id = a.programme_id
    GROUP BY a.programme_id
),
disputes AS (
    SELECT d.programme_id, count(DISTINCT (d.enrolment_id, d.period)) AS disputed
    FROM timesheet_dispute d JOIN scope s ON s.id = d.programme_id
    GROUP BY d.programme_id
),
complaints AS (
    SELECT c.programme_id, count(*) AS total, count(*) FILTER (WHERE c.status = 'open') AS open
    FROM complaint c JOIN scope s ON s.id = c.programme_id
    GROUP BY c.programme_id
),
signals AS (
    SELECT s.id AS programme_id,
           coalesce(r2.cohort, 0) AS cohort_2m,
           coalesce(r2.retained, 0) AS retained_2m,
           CAST(r2.retained AS float8) / nullif(r2.cohort, 0) AS retention_2m,
           coalesce(r3.cohort, 0) AS cohort_3m,
           coalesce(r3.retained, 0) AS retained_3m,
           CAST(r3.retained AS float8) / nullif(r3.cohort, 0) AS retention_3m,
           coalesce(sh.submitted, 0) AS timesheets_submitted,
           coalesce(d.disputed, 0) AS timesheets_disputed,
           CASE WHEN sh.submitted > 0  -- least() would skip a null: never 1.0 for a programme without timesheets
                THEN least(1.0, CAST(coalesce(d.disputed, 0) AS float8) / sh.submitted) END AS dispute_rate,
           coalesce(c.total, 0) AS complaints,
           coalesce(c.open, 0) AS complaints_open
    FROM scope s
    LEFT JOIN retention r2 ON r2.programme_id = s.id AND r2.k = 2
    LEFT JOIN retention r3 ON r3.programme_id = s.id AND r3.k = 3
    LEFT JOIN sheets sh ON sh.programme_id = s.id
    LEFT JOIN disputes d ON d.programme_id = s.id
    LEFT JOIN complaints c ON c.programme_id = s.id
)
"""

SCOPE = """
scope AS (
    SELECT p.id, coalesce(r.timezone, 'UTC') AS tz
    FROM programme p LEFT JOIN region r ON r.code = p.region_code
    WHERE {where}
)
"""


def for_ids() -> str:
    """Signals of the programmes ``:ids`` (a uuid[] parameter)."""
    return "WITH " + SCOPE.format(where="p.id = ANY(CAST(:ids AS uuid[]))") + "," + SIGNALS + "SELECT * FROM signals"


SORTS = {
    "title": "p.title->>'en' ASC",
    "retention_2m": "g.retention_2m ASC NULLS LAST",
    "-retention_2m": "g.retention_2m DESC NULLS LAST",
    "retention_3m": "g.retention_3m ASC NULLS LAST",
    "-retention_3m": "g.retention_3m DESC NULLS LAST",
    "dispute_rate": "g.dispute_rate ASC NULLS LAST",
    "-dispute_rate": "g.dispute_rate DESC NULLS LAST",
    "complaints": "g.complaints ASC",
    "-complaints": "g.complaints DESC",
}


def _region_filter(district: bool, status: bool) -> str:
    where = ["p.region_code = :region"]
    if district:
        where.append("p.district_code = :district")
    if status:
        where.append("p.status = :status")
    return " AND ".join(where)


def count_in_region(district: bool, status: bool) -> str:
    return "SELECT count(*) FROM programme p WHERE " + _region_filter(district, status)


def for_region(district: bool, status: bool, sort: str) -> str:
    """A region's programmes (optionally one district and status) with their signals, sorted and paged."""
    return (
        "WITH "
        + SCOPE.format(where=_region_filter(district, status))
        + ","
        + SIGNALS
        + """
SELECT p.id, p.provider_id, pr.name AS provider_name, p.status, p.direction, p.title, p.district_code,
       p.capacity, p.capacity - p.reserved AS free_seats, g.*
FROM signals g
JOIN programme p ON p.id = g.programme_id
JOIN provider pr ON pr.id = p.provider_id
ORDER BY """
        + SORTS[sort]
        + """, p.id
LIMIT :limit OFFSET :offset
"""
    )


def block(row: Any) -> dict[str, Any]:
    """The ``quality`` block of one programme (rates rounded to three decimals; null while nobody is counted)."""

    def rate(value: float | None) -> float | None:
        return None if value is None else round(float(value), 3)

    return {
        "retention_2m": {"cohort": row["cohort_2m"], "retained": row["retained_2m"], "rate": rate(row["retention_2m"])},
        "retention_3m": {"cohort": row["cohort_3m"], "retained": row["retained_3m"], "rate": rate(row["retention_3m"])},
        "timesheets_submitted": row["timesheets_submitted"],
        "timesheets_disputed": row["timesheets_disputed"],
        "dispute_rate": rate(row["dispute_rate"]),
        "complaints": row["complaints"],
        "complaints_open": row["complaints_open"],
    }


def parameters(now: datetime, grace_days: int, **extra: Any) -> dict[str, Any]:
    return {"now": now, "grace": grace_days, **extra}


async def of_programmes(
    session: AsyncSession, ids: Iterable[UUID], now: datetime, grace_days: int
) -> dict[UUID, dict[str, Any]]:
    """The ``quality`` block of each of these programmes."""
    wanted = list(ids)
    if not wanted:
        return {}
    rows = await session.execute(text(for_ids()), parameters(now, grace_days, ids=wanted))
    return {row["programme_id"]: block(row) for row in rows.mappings()}


async def region_page(
    session: AsyncSession,
    region: str,
    district: str | None,
    status: str | None,
    sort: str,
    limit: int,
    offset: int,
    now: datetime,
    grace_days: int,
) -> tuple[list[dict[str, Any]], int]:
    """One page of a region's (or district's) programmes with their ``quality`` block, and how many there are."""
    params = parameters(now, grace_days, region=region, district=district, status=status, limit=limit, offset=offset)
    by_district, by_status = district is not None, status is not None
    total = (await session.execute(text(count_in_region(by_district, by_status)), params)).scalar_one()
    rows = await session.execute(text(for_region(by_district, by_status, sort)), params)
    items = [
        {
            "programme_id": row["id"],
            "provider_id": row["provider_id"],
            "provider_name": row["provider_name"],
            "status": row["status"],
            "direction": row["direction"],
            "title": row["title"],
            "district_code": row["district_code"],
            "capacity": row["capacity"],
            "free_seats": row["free_seats"],
            "quality": block(row),
        }
        for row in rows.mappings()
    ]
    return items, total
