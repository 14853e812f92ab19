"""The read model against real PostgreSQL: a seeded demo fed through the consumer (inbox, dead letters), the
officials' figures equal the same figures computed here directly from the events, a rebuild from an empty database
in another order gives identical figures, and no open-data cell is below k."""

from __future__ import annotations

import calendar
import csv
import io
import random
import statistics
from collections import Counter, defaultdict
from typing import Any

import pytest

from qosym_chassis.consumer import IncomingMessage, Outcome
from qosym_contracts.allocation import (
    ApplicationSubmittedV1,
    ApplicationWaitlistedV1,
    VoucherAwardedV1,
    VoucherRevokedV1,
)
from qosym_contracts.attendance import AttendanceConfirmedV1, AttendanceDisputedV1, AttendanceSubmittedV1
from qosym_contracts.catalog import EnrolmentConfirmedV1, EnrolmentEndedV1, ProgrammePublishedV1
from qosym_contracts.payments import PaymentAccruedV1, ProviderPaidV1
from qosym_contracts.registry import ChildCategoriesVerifiedV1, ChildRegisteredV1
from services.insights.tests.component.support import CHILD_POPULATION, Demo, auth, seeded_demo
from tests.support.events import message

pytestmark = pytest.mark.component

FIGURES = (
    "counts",
    "demand",
    "activation",
    "retention",
    "attendance",
    "budget",
    "providers",
    "time-to-first-lesson",
    "equity",
)


async def feed(consumer: Any, demo: Demo, order: random.Random | None = None) -> None:
    events = list(demo.events)
    if order is not None:
        order.shuffle(events)
    for event in events:
        assert await consumer.deliver(message(event)) is Outcome.APPLIED


async def figures(client: Any, headers: dict[str, str], region: str = "astana") -> dict[str, Any]:
    out = {}
    for name in FIGURES:
        response = await client.get(
            f"/v1/insights/regions/{region}/{name}",
            headers=headers,
            params={"by": ["district", "direction", "category", "age_band"]}
            if name == "counts"
            else {"year": 2026}
            if name == "budget"
            else {},
        )
        assert response.status_code == 200, (name, response.text)
        out[name] = response.json()
    return out


@pytest.fixture
async def fed(service_db, consumer, api_client, token):
    url = await service_db("insights")
    wrapper = await consumer("insights", url)
    demo = seeded_demo()
    await feed(wrapper, demo)
    async with api_client("insights", url, open_data_k=5) as client:
        yield demo, wrapper, client, url


def by_key(rows: list[dict[str, Any]], *keys: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {tuple(r[k] for k in keys): r for r in rows}


async def test_figures_equal_the_same_figures_computed_from_the_events(fed, token) -> None:
    demo, _, client, _ = fed
    admin = auth(token("administrator"))
    got = await figures(client, admin)
    assert got["demand"]["freshness"] is not None

    # demand: applications, awards, waitlist and seats by district x direction
    applications = demo.of(ApplicationSubmittedV1)
    awarded_apps = {v.application_id for v in demo.of(VoucherAwardedV1)}
    waitlisted = {w.application_id for w in demo.of(ApplicationWaitlistedV1)}
    seats: Counter[tuple[str, str]] = Counter()
    for p in demo.of(ProgrammePublishedV1):
        seats[(p.district_code, p.direction)] += p.capacity
    demand = by_key(got["demand"]["data"], "district", "direction")
    for key in {(a.district_code, a.direction) for a in applications} | set(seats):
        apps = [a for a in applications if (a.district_code, a.direction) == key]
        row = demand[key]
        assert row["applications"] == len(apps)
        assert row["awards"] == sum(a.application_id in awarded_apps for a in apps)
        assert row["waitlisted"] == sum(a.application_id in waitlisted for a in apps)
        assert row["seats_offered"] == seats[key]
        assert row["unmet_demand"] == max(0, len(apps) - seats[key])

    # activation: awarded -> enrolled -> attended at least once
    enrolments = {e.voucher_id: e.enrolment_id for e in demo.of(EnrolmentConfirmedV1)}
    attended = {t.enrolment_id for t in demo.of(AttendanceSubmittedV1) if t.attended_sessions > 0}
    activation = by_key(got["activation"]["data"], "district", "direction")
    tally: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for v in demo.of(VoucherAwardedV1):
        tally[(v.district_code, v.direction)]["awarded"] += 1
        tally[(v.district_code, v.direction)]["enrolled"] += v.voucher_id in enrolments
        tally[(v.district_code, v.direction)]["attended"] += enrolments.get(v.voucher_id) in attended
    assert {k: (r["awarded"], r["enrolled"], r["attended"]) for k, r in activation.items()} == {
        k: (c["awarded"], c["enrolled"], c["attended"]) for k, c in tally.items()
    }

    # attendance confirmation and dispute rates by month
    attendance = by_key(got["attendance"]["data"], "period")
    submitted = Counter(t.period for t in demo.of(AttendanceSubmittedV1))
    confirmed = Counter(t.period for t in demo.of(AttendanceConfirmedV1))
    disputed = Counter(t.period for t in demo.of(AttendanceDisputedV1))
    assert {p: (r["timesheets"], r["confirmed"], r["disputed"]) for (p,), r in attendance.items()} == {
        p: (n, confirmed[p], disputed[p]) for p, n in submitted.items()
    }

    # budget: committed (not revoked), accrued and paid in 2026, and the linear forecast
    revoked = {v.voucher_id for v in demo.of(VoucherRevokedV1)}
    budget = got["budget"]["data"]
    assert budget["committed_tiyn"] == sum(
        v.monthly_value_tiyn * v.months for v in demo.of(VoucherAwardedV1) if v.voucher_id not in revoked
    )
    accrued_by_month = Counter()
    for a in demo.of(PaymentAccruedV1):
        accrued_by_month[a.period] += a.amount_tiyn
    accrued = sum(accrued_by_month.values())
    assert budget["accrued_tiyn"] == accrued
    assert budget["paid_tiyn"] == sum(p.amount_tiyn for p in demo.of(ProviderPaidV1))
    months = sorted(accrued_by_month)
    first, last = int(months[0][5:]), int(months[-1][5:])
    assert budget["forecast_year_end_tiyn"] == accrued + accrued // (last - first + 1) * (12 - last)

    # payments per provider
    per_provider = Counter()
    for a in demo.of(PaymentAccruedV1):
        per_provider[str(a.provider_id)] += a.amount_tiyn
    assert {r["provider_id"]: r["accrued_tiyn"] for r in got["providers"]["data"]} == dict(per_provider)

    # equity: distinct applicants and vouchers per category and district
    categories = {c.child_id: sorted({x.code for x in c.categories}) for c in demo.of(ChildCategoriesVerifiedV1)}
    applicants: Counter[tuple[str, str]] = Counter()
    vouchers: Counter[tuple[str, str]] = Counter()
    for a in applications:
        for category in categories.get(a.child_id) or ["none"]:
            applicants[(a.district_code, category)] += 1
            vouchers[(a.district_code, category)] += a.application_id in awarded_apps
    equity = got["equity"]["data"]
    # coverage: vouchers (distinct children awarded) per 1,000 children of the district, against the region's
    assert equity["population_known"] is True
    awarded_children: defaultdict[str, set[Any]] = defaultdict(set)
    for a in applications:
        if a.application_id in awarded_apps:
            awarded_children[a.district_code].add(a.child_id)
    region_coverage = round(sum(len(c) for c in awarded_children.values()) * 1000 / sum(CHILD_POPULATION.values()), 4)
    assert equity["region_coverage_per_1000"] == region_coverage
    coverage = {d["district"]: (d["child_population"], d["coverage_per_1000"]) for d in equity["districts"]}
    assert coverage == {d: (n, round(len(awarded_children[d]) * 1000 / n, 4)) for d, n in CHILD_POPULATION.items()}
    for d in equity["districts"]:
        assert d["coverage_below_region"] == (d["coverage_per_1000"] < region_coverage)
    seen = {
        (d["district"], c["category"]): (c["applicants"], c["vouchers"])
        for d in equity["districts"]
        for c in d["categories"]
    }
    assert seen == {key: (applicants[key], vouchers[key]) for key in applicants}
    region_rate = len(awarded_apps) / len(applications)
    for d in equity["districts"]:
        assert d["below_region"] == (d["vouchers"] / d["applicants"] < round(region_rate, 4))

    # counts by category: each child in each of its categories
    by_category = Counter()
    for row in got["counts"]["data"]:
        by_category[row["dimensions"]["category"]] += row["applications"]
    expected = Counter(c for a in applications for c in categories.get(a.child_id) or ["none"])
    assert by_category == expected

    # counts by age band: the age reached in the year of the application, from the birth year only
    born = {c.child_id: c.birth_date.year for c in demo.of(ChildRegisteredV1)}
    bands = {range(0, 6): "0-5", range(6, 10): "6-9", range(10, 14): "10-13", range(14, 18): "14-17"}
    by_band = Counter()
    for row in got["counts"]["data"]:
        by_band[row["dimensions"]["age_band"]] += row["applications"]
    expected_bands = Counter()
    for a in applications:
        age = a.occurred_at.year - born[a.child_id]
        band = next((name for ages, name in bands.items() if age in ages), "18+")
        expected_bands[band] += len(categories.get(a.child_id) or ["none"])
    assert by_band == expected_bands

    # retention by programme after 1, 3 and 6 months, as of the last event that names the region
    as_of = max(e.occurred_at for e in demo.events if getattr(e, "region_code", None) == "astana")
    assert got["retention"]["freshness"].replace("Z", "+00:00") == as_of.isoformat()
    ended = {e.enrolment_id: e.occurred_at for e in demo.of(EnrolmentEndedV1)}

    def months_after(moment, months):
        year, month = divmod(moment.month - 1 + months, 12)
        year, month = moment.year + year, month + 1
        return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))

    expected_retention = {}
    for programme_id in {e.programme_id for e in demo.of(EnrolmentConfirmedV1)}:
        spans = [
            (e.occurred_at, ended.get(e.enrolment_id))
            for e in demo.of(EnrolmentConfirmedV1)
            if e.programme_id == programme_id
        ]
        points = []
        for months in (1, 3, 6):
            eligible = [(s, end) for s, end in spans if months_after(s, months) <= as_of]
            kept = sum(1 for s, end in eligible if end is None or end >= months_after(s, months))
            points.append((months, len(eligible), kept))
        expected_retention[str(programme_id)] = (len(spans), points)
    # the demo reaches six months after the first enrolments, and some children left before
    six = [(eligible, kept) for _, points in expected_retention.values() for m, eligible, kept in points if m == 6]
    assert sum(e for e, _ in six) > sum(k for _, k in six) > 0
    assert {
        r["programme_id"]: (r["enrolments"], [(p["months"], p["eligible"], p["retained"]) for p in r["points"]])
        for r in got["retention"]["data"]
    } == expected_retention

    # days from the application to the first attended lesson, per district
    first_lesson = {}
    for t in demo.of(AttendanceSubmittedV1):
        for mark in t.sessions:
            if mark.status == "attended":
                first_lesson[t.enrolment_id] = min(first_lesson.get(t.enrolment_id, mark.date), mark.date)
    voucher_of = {v.application_id: v.voucher_id for v in demo.of(VoucherAwardedV1)}
    enrolment_of = {e.voucher_id: e.enrolment_id for e in demo.of(EnrolmentConfirmedV1)}
    waits = defaultdict(list)
    for a in applications:
        enrolment_id = enrolment_of.get(voucher_of.get(a.application_id))
        if enrolment_id in first_lesson:
            waits[a.district_code].append((first_lesson[enrolment_id] - a.occurred_at.date()).days)
    waiting = {w["district"]: w for w in got["time-to-first-lesson"]["data"]}
    for district, days in waits.items():
        assert waiting[district]["children"] == len(days)
        assert waiting[district]["median_days"] == statistics.median(days)
        assert waiting[district]["max_days"] == max(days)
    assert waiting["*"]["children"] == sum(len(d) for d in waits.values())


async def test_rebuilding_from_an_empty_database_in_another_order_gives_identical_figures(
    fed, service_db, consumer, api_client, token
) -> None:
    demo, _, client, _ = fed
    admin = auth(token("administrator"))
    before = await figures(client, admin)
    url = await service_db("insights")
    again = await consumer("insights", url)
    await feed(again, demo, random.Random(3))
    async with api_client("insights", url) as rebuilt:
        assert await figures(rebuilt, admin) == before


async def test_a_redelivery_is_a_duplicate_and_bytes_that_are_no_event_become_a_dead_letter(fed, superuser_url) -> None:
    import asyncpg

    demo, wrapper, _, url = fed
    assert await wrapper.deliver(message(demo.events[5])) is Outcome.DUPLICATE
    poison = IncomingMessage(topic=demo.events[5].topic, body=b"{not json")
    assert await wrapper.deliver(poison) is Outcome.DEAD_LETTERED
    conn = await asyncpg.connect(superuser_url(url))
    try:
        assert await conn.fetchval("SELECT count(*) FROM dead_letter WHERE consumer = 'insights'") == 1
        # nothing personal is stored: no child id of the demo appears anywhere in the read model
        rows = []
        for table in ("application", "voucher", "child", "enrolment", "timesheet"):
            rows += [str(row) for row in await conn.fetch(f"SELECT * FROM {table}")]
        dump = " ".join(rows)
        assert len(rows) > 100
    finally:
        await conn.close()
    for event in demo.of(ApplicationSubmittedV1):
        assert str(event.child_id) not in dump


async def test_no_open_data_cell_is_below_k_and_each_export_says_how_fresh_it_is(fed) -> None:
    _, _, client, _ = fed
    listing = (await client.get("/v1/open")).json()
    assert listing["k"] == 5
    assert "astana" in listing["regions"]
    for dataset in listing["datasets"]:
        response = await client.get(f"/v1/open/regions/astana/{dataset}")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["freshness"] is not None
        published = [c["value"] for c in body["cells"] if not c["suppressed"]]
        assert all(value >= 5 for value in published), dataset
        assert all(c["value"] is None for c in body["cells"] if c["suppressed"])
        text = (await client.get(f"/v1/open/regions/astana/{dataset}", params={"format": "csv"})).text
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0][0] == "# dataset"
        assert rows[0][7] == body["freshness"].replace("Z", "+00:00") or rows[0][7]
        values = [int(r[2]) for r in rows[2:] if r[2]]
        assert values == published
    # some cells are published (the demo is large enough) and some suppressed
    cells = (await client.get("/v1/open/regions/astana/applications")).json()["cells"]
    assert any(not c["suppressed"] for c in cells)
    assert any(
        c["suppressed"] for c in (await client.get("/v1/open/regions/astana/awards_by_category")).json()["cells"]
    )


async def test_the_open_data_needs_no_token_and_the_figures_do(fed) -> None:
    _, _, client, _ = fed
    assert (await client.get("/v1/open/regions/astana/applications")).status_code == 200
    assert (await client.get("/v1/insights/regions/astana/demand")).status_code == 401
    assert (await client.get("/v1/open/regions/astana/no_such")).status_code == 404


async def test_every_official_route_refuses_a_foreign_operator_and_a_parent(fed, token) -> None:
    _, _, client, _ = fed
    paths = [p for p in (await client.get("/openapi.json")).json()["paths"] if p.startswith("/v1/insights/")]
    assert len(paths) == len(FIGURES)
    own, foreign = (
        auth(token("operator", scope={"region": "astana"})),
        auth(token("operator", scope={"region": "almaty"})),
    )
    auditor, parent = auth(token("auditor")), auth(token("parent"))
    for path in paths:
        url = path.replace("{region_code}", "astana")
        assert (await client.get(url, headers=own)).status_code == 200, url
        assert (await client.get(url, headers=auditor)).status_code == 200, url
        assert (await client.get(url, headers=foreign)).status_code == 404, url
        assert (await client.get(url, headers=parent)).status_code == 403, url
