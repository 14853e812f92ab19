"""The insights issue's done-when journey, tried as a new user would on ``qosym up`` after a round and a month.

In a region of its own (a copy of Astana's file, with its illustrative child populations), fourteen children of two
districts apply for sports; the round's budget funds ten, so four are waitlisted. A verified provider publishes a
programme in Yesil, two children are enrolled, and their month is marked, submitted and confirmed by the parent;
payments accrues it. Insights' figures (demand against seats by district and direction, activation, retention,
equity by category with coverage per 1,000 children, budget burn, attendance) then equal the same figures computed
here DIRECTLY from the producers' databases (allocation's applications and vouchers, catalog's programmes and
enrolments, attendance's timesheets, payments' accruals and payouts); no open-data cell is below k; dropping the read
model (every table and the inbox) and having the producers publish their outboxes again (``qosym replay``) gives
identical figures; and ``qosym report`` writes a PDF with Russian and Kazakh text.
"""

from __future__ import annotations

import asyncio
import calendar
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from pypdf import PdfReader

from qosym_cli.stack import LocalStack
from tests.support.journeys import (
    award_vouchers,
    bearer,
    configure_region,
    enrol,
    new_family,
    next_month_at,
    publish_programme,
    verified_provider,
)
from tests.support.stack_ops import drained, kill, restart_stopped_services, shifted_clock
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e
ZONE = ZoneInfo("Asia/Almaty")
EVERY_DAY = [{"weekday": d, "start": "16:00", "end": "17:00"} for d in range(1, 8)]
FIGURES = ("demand", "activation", "retention", "equity", "budget", "attendance")
OPEN_DATASETS = (
    "applications",
    "awards",
    "waitlisted",
    "enrolments",
    "applicants_by_category",
    "awards_by_category",
    "applications_by_age_band",
)


def qosym(stack: LocalStack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qosym_cli.main", *args, "--home", str(stack.home)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "300"},
    )


def rows(stack: LocalStack, service: str, sql: str, *args: Any) -> list[dict[str, Any]]:
    """A producer's own records, read with SQL from its database (the test's independent source of truth)."""

    async def run() -> list[dict[str, Any]]:
        conn = await asyncpg.connect(stack.state.database_urls[service].replace("+asyncpg", ""))
        try:
            return [dict(r) for r in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    return asyncio.run(run())


def drop_read_model(stack: LocalStack) -> None:
    """Empty every table of insights (facts, freshness, inbox, dead letters), its schema version kept."""

    async def run() -> None:
        url = stack.state.migration_urls.get("insights") or stack.state.database_urls["insights"]
        conn = await asyncpg.connect(url.replace("+asyncpg", ""))
        try:
            tables = await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
            async with conn.transaction():
                for t in tables:
                    await conn.execute(f'DELETE FROM "{t["tablename"]}"')
            assert await conn.fetchval("SELECT count(*) FROM inbox") == 0
        finally:
            await conn.close()

    asyncio.run(run())


def add_months(instant: datetime, months: int) -> datetime:
    month = instant.month - 1 + months
    year, month = instant.year + month // 12, month % 12 + 1
    return instant.replace(year=year, month=month, day=min(instant.day, calendar.monthrange(year, month)[1]))


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def from_the_producers(stack: LocalStack, region: str, year: int, as_of: datetime) -> dict[str, Any]:
    """Every figure the journey checks, computed from the producers' databases, never from insights."""
    applications = rows(
        stack,
        "allocation",
        "SELECT a.application_id, a.child_id, a.district_code, a.direction, a.status FROM application_outcome a"
        " JOIN round r ON r.round_id = a.round_id WHERE r.region_code = $1",  # what was submitted and what allocate made of it
        region,
    )
    vouchers = rows(
        stack,
        "allocation",
        "SELECT voucher_id, application_id, child_id, district_code, direction, monthly_value_tiyn, months, status"
        " FROM voucher WHERE region_code = $1",
        region,
    )
    children = list({a["child_id"] for a in applications})
    categories = defaultdict(set)
    for c in rows(stack, "allocation", "SELECT child_id, code FROM child_category WHERE child_id = ANY($1)", children):
        categories[c["child_id"]].add(c["code"])
    programmes = rows(
        stack,
        "catalog",
        "SELECT id, provider_id, district_code, direction, capacity, status FROM programme WHERE region_code = $1",
        region,
    )
    enrolments = rows(
        stack,
        "catalog",
        "SELECT e.id, e.voucher_id, e.programme_id, e.provider_id, e.confirmed_at, e.ended_at,"
        " p.district_code, p.direction FROM enrolment e JOIN programme p ON p.id = e.programme_id"
        " WHERE p.region_code = $1 AND e.confirmed_at IS NOT NULL",
        region,
    )
    timesheets = rows(
        stack,
        "attendance",
        "SELECT enrolment_id, period, status, attended_sessions FROM timesheet"
        " WHERE region_code = $1 AND status <> 'draft'",
        region,
    )
    accruals = rows(stack, "payments", "SELECT period, amount_tiyn FROM accrual WHERE region_code = $1", region)
    paid = rows(
        stack,
        "payments",
        "SELECT b.period, i.amount_tiyn FROM batch_item i JOIN payment_batch b ON b.batch_id = i.batch_id"
        " WHERE b.region_code = $1 AND i.paid_at IS NOT NULL",
        region,
    )
    [budget_row] = rows(stack, "payments", "SELECT budget_tiyn FROM region_budget WHERE region_code = $1", region)

    awarded_apps = {v["application_id"] for v in vouchers}
    # demand against seats, by district and direction
    demand: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for a in applications:
        c = demand[(a["district_code"], a["direction"])]
        c["applications"] += 1
        c["awards"] += a["application_id"] in awarded_apps
        c["waitlisted"] += a["status"] == "waitlisted"
        c["requested"] += a["status"] != "withdrawn"
    for p in programmes:
        if p["status"] == "published":
            demand[(p["district_code"], p["direction"])]["seats"] += p["capacity"]
    # activation: awarded -> enrolled -> attended at least one session
    enrolment_of = {e["voucher_id"]: e["id"] for e in enrolments if e["voucher_id"]}
    attended = {t["enrolment_id"] for t in timesheets if (t["attended_sessions"] or 0) > 0}
    activation: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for v in vouchers:
        c = activation[(v["district_code"], v["direction"])]
        c["awarded"] += 1
        c["enrolled"] += v["voucher_id"] in enrolment_of
        c["attended"] += enrolment_of.get(v["voucher_id"]) in attended
    # retention by programme, as of the figures' time
    spans = defaultdict(list)
    for e in enrolments:
        spans[str(e["programme_id"])].append((e["confirmed_at"], e["ended_at"]))
    retention = {}
    for programme_id, kept in spans.items():
        points = []
        for months in (1, 3, 6):
            eligible = [(s, end) for s, end in kept if add_months(s, months) <= as_of]
            retained = sum(1 for s, end in eligible if end is None or end >= add_months(s, months))
            points.append((months, len(eligible), retained))
        retention[programme_id] = (len(kept), points)
    # equity: distinct applicants and voucher holders per category and district; coverage per 1,000 children
    applicants: dict[str, dict[str, set[Any]]] = defaultdict(lambda: defaultdict(set))
    holders: dict[str, dict[str, set[Any]]] = defaultdict(lambda: defaultdict(set))
    for a in applications:
        for category in categories.get(a["child_id"]) or {"none"}:
            applicants[a["district_code"]][category].add(a["child_id"])
            if a["application_id"] in awarded_apps:
                holders[a["district_code"]][category].add(a["child_id"])
    # budget burn: committed, accrued, paid; the linear forecast to the year's end
    prefix = f"{year:04d}-"
    accrued_by_month: Counter[str] = Counter()
    for a in accruals:
        if a["period"].startswith(prefix):
            accrued_by_month[a["period"]] += a["amount_tiyn"]
    accrued = sum(accrued_by_month.values())
    last = int(max(accrued_by_month)[5:]) if accrued_by_month else None
    first = int(min(accrued_by_month)[5:]) if accrued_by_month else None
    burn = accrued // (last - first + 1) if last and first else None
    budget = {
        "budget_tiyn": budget_row["budget_tiyn"],
        "committed_tiyn": sum(
            v["monthly_value_tiyn"] * v["months"] for v in vouchers if v["status"] not in ("revoked", "expired")
        ),
        "accrued_tiyn": accrued,
        "paid_tiyn": sum(p["amount_tiyn"] for p in paid if p["period"].startswith(prefix)),
        "monthly_burn_tiyn": burn,
        "forecast_year_end_tiyn": accrued + burn * (12 - last) if burn is not None and last else None,
    }
    attendance: dict[str, Counter[str]] = defaultdict(Counter)
    for t in timesheets:
        c = attendance[t["period"]]
        c["timesheets"] += 1
        c["confirmed"] += t["status"] == "confirmed"
    return {
        "demand": {
            key: (c["applications"], c["awards"], c["waitlisted"], c["seats"], max(0, c["requested"] - c["seats"]))
            for key, c in demand.items()
        },
        "activation": {key: (c["awarded"], c["enrolled"], c["attended"]) for key, c in activation.items()},
        "retention": retention,
        "equity": {
            district: {
                category: (len(applicants[district][category]), len(holders[district][category]))
                for category in applicants[district]
            }
            for district in applicants
        },
        "vouchers_by_district": {d: len(set().union(*holders[d].values())) if holders[d] else 0 for d in applicants},
        "budget": budget,
        "attendance": {p: (c["timesheets"], c["confirmed"]) for p, c in attendance.items()},
    }


def as_seen_by_insights(answers: dict[str, Any]) -> dict[str, Any]:
    """The same figures, picked out of insights' answers."""
    equity = answers["equity"]["data"]
    return {
        "demand": {
            (r["district"], r["direction"]): (
                r["applications"],
                r["awards"],
                r["waitlisted"],
                r["seats_offered"],
                r["unmet_demand"],
            )
            for r in answers["demand"]["data"]
        },
        "activation": {
            (r["district"], r["direction"]): (r["awarded"], r["enrolled"], r["attended"])
            for r in answers["activation"]["data"]
        },
        "retention": {
            r["programme_id"]: (r["enrolments"], [(p["months"], p["eligible"], p["retained"]) for p in r["points"]])
            for r in answers["retention"]["data"]
        },
        "equity": {
            d["district"]: {c["category"]: (c["applicants"], c["vouchers"]) for c in d["categories"]}
            for d in equity["districts"]
            if d["applicants"]
        },
        "vouchers_by_district": {d["district"]: d["vouchers"] for d in equity["districts"] if d["applicants"]},
        "budget": {
            name: answers["budget"]["data"][name]
            for name in (
                "budget_tiyn",
                "committed_tiyn",
                "accrued_tiyn",
                "paid_tiyn",
                "monthly_burn_tiyn",
                "forecast_year_end_tiyn",
            )
        },
        "attendance": {r["period"]: (r["timesheets"], r["confirmed"]) for r in answers["attendance"]["data"]},
    }


@pytest.mark.timeout(900)  # a round, a month, a report and a rebuild by replay on the embedded stack
def test_insights_figures_equal_the_producers_records_survive_a_rebuild_and_make_a_report(
    running_stack, api, token, tmp_path
) -> None:
    stack = running_stack
    region_code = f"insight-{uuid.uuid4().hex[:6]}"
    region = configure_region(stack, token, region_code)
    population = {d["code"]: d["child_population"] for d in region["districts"]}
    yesil = new_family(stack, token, children=12, region=region_code, district="yesil")
    nura = new_family(stack, token, children=2, region=region_code, district="nura")
    award_vouchers(stack, token, [yesil, nura], region=region_code, budget_for=10)
    provider = verified_provider(stack, token, region=region_code)
    programme = publish_programme(stack, provider, schedule=EVERY_DAY, sessions_per_month=30)
    enrolled = [c for c in yesil.children if c.voucher_id][:2]
    for child in enrolled:
        enrol(stack, yesil, child, programme["id"])
    now = datetime.now(UTC)
    period = now.astimezone(ZONE).strftime("%Y-%m")
    attendance = api("attendance")
    group = f"/v1/programmes/{programme['id']}/timesheets/{period}"
    eventually(
        lambda: (
            (r := attendance.get(group, headers=provider.headers)).status_code == 200
            and len(r.json()["enrolments"]) == 2
        ),
        timeout_s=90,
    )

    # next month: the provider marks and submits the month, the parent confirms it; payments accrues it
    offset = int((next_month_at(now, ZONE) - datetime.now(UTC)).total_seconds())
    with shifted_clock(stack, ("attendance",), roles=("api",), offset_s=offset):
        marked = attendance.put(f"{group}/marks", json={"all_scheduled": "attended"}, headers=provider.headers)
        assert marked.status_code == 200, marked.text
        submitted = attendance.post(f"/v1/providers/{provider.id}/timesheets/{period}/submit", headers=provider.headers)
        assert submitted.status_code == 200, submitted.text
        months = attendance.get(f"/v1/timesheets?period={period}", headers=yesil.headers).json()["items"]
        assert len(months) == 2
        confirmed = attendance.post(
            "/v1/timesheets/confirm", json={"timesheet_ids": [m["id"] for m in months]}, headers=yesil.headers
        )
        assert confirmed.status_code == 200, confirmed.text
    payments = api("payments")
    eventually(
        lambda: (
            len(
                payments.get(f"/v1/providers/{provider.id}/accruals?period={period}", headers=provider.headers).json()[
                    "items"
                ]
            )
            == 2
        ),
        timeout_s=120,
    )

    insights = api("insights")
    auditor = bearer(token("auditor"))
    year = int(period[:4])

    def answers() -> dict[str, Any]:
        got = {}
        for name in FIGURES:
            params = {"year": year} if name == "budget" else {}
            response = insights.get(f"/v1/insights/regions/{region_code}/{name}", headers=auditor, params=params)
            assert response.status_code in (200, 404), response.text
            got[name] = response.json()
        return got

    def settled() -> dict[str, Any] | None:
        """Insights' answers once they match the producers' records (None until they do)."""
        got = answers()
        if any("data" not in a for a in got.values()):
            return None
        as_of = datetime.fromisoformat(got["demand"]["freshness"])
        expected = from_the_producers(stack, region_code, year, as_of)
        return got if as_seen_by_insights(got) == expected else None

    # the figures equal the same figures computed from the producers' databases
    before = eventually(settled, timeout_s=180, interval_s=1.0)
    as_of = datetime.fromisoformat(before["demand"]["freshness"])
    expected = from_the_producers(stack, region_code, year, as_of)
    seen = as_seen_by_insights(before)
    assert seen == expected
    # what the journey made shows in them: demand and seats, waitlist, activation, a month accrued
    assert (seen["demand"][("yesil", "sports")][0], seen["demand"][("nura", "sports")][0]) == (12, 2)
    assert sum(r[1] for r in seen["demand"].values()) == 10  # awards: the budget funds ten of the fourteen
    assert seen["demand"][("yesil", "sports")][3] == programme["capacity"]
    assert sum(r[1] for r in seen["activation"].values()) == 2
    assert sum(r[2] for r in seen["activation"].values()) == 2
    assert seen["budget"]["accrued_tiyn"] > 0
    assert seen["attendance"][period] == (2, 2)

    # coverage per 1,000 children of each district, from the region file's population, against the region's
    equity = before["equity"]["data"]
    assert equity["population_known"] is True
    covered = {d["district"]: d for d in equity["districts"]}
    vouchers = expected["vouchers_by_district"]
    region_coverage = round(sum(vouchers.values()) * 1000 / sum(population.values()), 4)
    assert equity["region_coverage_per_1000"] == region_coverage
    for district, children in population.items():
        d = covered[district]
        coverage = round(vouchers.get(district, 0) * 1000 / children, 4)
        assert (d["child_population"], d["coverage_per_1000"]) == (children, coverage)
        assert d["coverage_below_region"] == (coverage < region_coverage)

    # the open data: every published cell at least k, every cell below k suppressed
    catalogue = httpx.get(f"{stack.api_url('insights')}/v1/open", timeout=30).json()
    k = catalogue["k"]
    assert k == 10 and region_code in catalogue["regions"]
    published = 0
    for dataset in OPEN_DATASETS:
        response = insights.get(f"/v1/open/regions/{region_code}/{dataset}")  # no token: public
        assert response.status_code == 200, response.text
        for cell in response.json()["cells"]:
            assert cell["suppressed"] == (cell["value"] is None), cell
            assert cell["suppressed"] or cell["value"] >= k, (dataset, cell)
            published += not cell["suppressed"]
        csv = insights.get(f"/v1/open/regions/{region_code}/{dataset}", params={"format": "csv"})
        assert csv.status_code == 200, csv.text
        for line in csv.text.splitlines()[2:]:
            value = line.split(",")[2]
            assert value == "" or int(value) >= k, (dataset, line)
    assert published > 0  # Yesil's twelve applications (and ten awards) are published, Nura's two are not
    applications = insights.get(f"/v1/open/regions/{region_code}/applications").json()["cells"]
    assert {(c["row"], c["column"]): c["value"] for c in applications}[("yesil", "sports")] == 12
    assert {(c["row"], c["column"]): c["suppressed"] for c in applications}[("nura", "sports")] is True

    # the report: a PDF in Russian with the Kazakh title, from the running stack's insights API
    pdf = tmp_path / "report.pdf"
    written = qosym(stack, "report", "--region", region_code, "--period", period, "--out", str(pdf))
    assert written.returncode == 0, written.stdout + written.stderr
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "отчёт по региону" in text  # Russian
    assert "өңір бойынша есеп" in text  # Kazakh (ө and ң are Kazakh letters)

    # drop the read model and rebuild it: the producers publish their outboxes again, the figures are identical
    kill(stack, "insights-consumers", signal.SIGTERM)
    drop_read_model(stack)
    assert insights.get(f"/v1/insights/regions/{region_code}/demand", headers=auditor).status_code == 404
    restart_stopped_services(stack)
    replayed = qosym(stack, "replay", "--since", "1d")  # every event the stack has published, not only this test's
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    rebuilt = eventually(lambda: (got := answers()) == before and got, timeout_s=300)
    assert rebuilt == before
    drained(stack)  # the other consumers have read (and deduplicated) the replayed events
