"""The figures officials read, computed from one region's facts (pure: no I/O).

Every figure is deterministic in the facts: "now" is the time of the last event applied (``Facts.freshness``),
so rebuilding the read model from the same events gives the same figures (docs/architecture.md, "Invariants").
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from insights.domain.dimensions import NO_CATEGORY, add_months, age_band, month_of
from insights.domain.facts import Application, Facts, Voucher

DIMENSIONS = ("district", "direction", "age_band", "category", "round", "month")
RETENTION_MONTHS = (1, 3, 6)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True)
class Filter:
    round_id: UUID | None = None
    month: str | None = None  # the month an application was submitted in (region's time zone)


def _timezone(facts: Facts) -> str | None:
    return facts.region.timezone if facts.region else None


def _categories(facts: Facts, key: str | None) -> tuple[str, ...]:
    known = facts.children.get(key) if key else None
    return known.categories if known and known.categories else (NO_CATEGORY,)


def _age_band(facts: Facts, key: str | None, on: datetime) -> str:
    known = facts.children.get(key) if key else None
    return age_band(known.birth_year if known else None, on.year)


def applications(facts: Facts, where: Filter) -> list[Application]:
    tz = _timezone(facts)
    return [
        a
        for a in facts.applications
        if (where.round_id is None or a.round_id == where.round_id)
        and (where.month is None or month_of(a.submitted_at, tz) == where.month)
    ]


def vouchers(facts: Facts, where: Filter) -> list[Voucher]:
    """Vouchers of the applications the filter keeps (a voucher without a known application: by its round)."""
    kept = {a.application_id for a in applications(facts, where)}
    known = {a.application_id for a in facts.applications}
    return [
        v
        for v in facts.vouchers
        if (v.application_id in kept)
        or (v.application_id not in known and where.month is None and where.round_id in (None, v.round_id))
    ]


# --- applications, awards and the waitlist, grouped by any dimensions -------------------------------------------


@dataclass(frozen=True)
class CountRow:
    dimensions: dict[str, str]
    applications: int
    awards: int
    waitlisted: int
    withdrawn: int


def _application_keys(facts: Facts, a: Application, by: Sequence[str]) -> list[tuple[str, ...]]:
    values: dict[str, list[str]] = {
        "district": [a.district_code],
        "direction": [a.direction],
        "age_band": [_age_band(facts, a.child_key, a.submitted_at)],
        "category": list(_categories(facts, a.child_key)),
        "round": [str(a.round_id) if a.round_id else "unknown"],
        "month": [month_of(a.submitted_at, _timezone(facts))],
    }
    keys: list[tuple[str, ...]] = [()]
    for dimension in by:
        keys = [(*key, value) for key in keys for value in values[dimension]]
    return keys


def counts(facts: Facts, by: Sequence[str], where: Filter) -> list[CountRow]:
    """Applications (withdrawn ones included, and counted apart), awards and the waitlist by the chosen dimensions;
    a child with two categories counts in both."""
    awarded = {v.application_id for v in facts.vouchers}
    tally: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    for a in applications(facts, where):
        for key in _application_keys(facts, a, by):
            tally[key]["applications"] += 1
            tally[key]["awards"] += a.application_id in awarded
            tally[key]["waitlisted"] += a.waitlisted and a.application_id not in awarded
            tally[key]["withdrawn"] += a.withdrawn
    return [
        CountRow(dict(zip(by, key, strict=True)), c["applications"], c["awards"], c["waitlisted"], c["withdrawn"])
        for key, c in sorted(tally.items())
    ]


# --- demand against seats ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemandRow:
    district: str
    direction: str
    applications: int
    awards: int
    waitlisted: int
    seats_offered: int
    unmet_demand: int  # applications (not withdrawn) beyond the seats offered


def demand(facts: Facts, where: Filter) -> list[DemandRow]:
    requested: Counter[tuple[str, str]] = Counter()
    for a in applications(facts, where):
        if not a.withdrawn:
            requested[(a.district_code, a.direction)] += 1
    seats: Counter[tuple[str, str]] = Counter()
    for p in facts.programmes:
        if p.open:
            seats[(p.district_code, p.direction)] += p.capacity
    rows = {
        (r.dimensions["district"], r.dimensions["direction"]): r
        for r in counts(facts, ("district", "direction"), where)
    }
    keys = sorted(set(rows) | set(seats))
    return [
        DemandRow(
            district=district,
            direction=direction,
            applications=rows[(district, direction)].applications if (district, direction) in rows else 0,
            awards=rows[(district, direction)].awards if (district, direction) in rows else 0,
            waitlisted=rows[(district, direction)].waitlisted if (district, direction) in rows else 0,
            seats_offered=seats[(district, direction)],
            unmet_demand=max(0, requested[(district, direction)] - seats[(district, direction)]),
        )
        for district, direction in keys
    ]


# --- activation: awarded -> enrolled -> first attended month ----------------------------------------------------


@dataclass(frozen=True)
class ActivationRow:
    district: str
    direction: str
    awarded: int
    enrolled: int
    attended: int
    enrolment_rate: float | None
    attendance_rate: float | None


def _attended_enrolments(facts: Facts) -> set[UUID]:
    return {t.enrolment_id for t in facts.timesheets if (t.attended_sessions or 0) > 0}


def activation(facts: Facts, where: Filter) -> list[ActivationRow]:
    enrolled_vouchers = {e.voucher_id: e.enrolment_id for e in facts.enrolments if e.voucher_id}
    attended = _attended_enrolments(facts)
    tally: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for v in vouchers(facts, where):
        c = tally[(v.district_code, v.direction)]
        c["awarded"] += 1
        enrolment_id = enrolled_vouchers.get(v.voucher_id)
        c["enrolled"] += enrolment_id is not None
        c["attended"] += enrolment_id in attended
    return [
        ActivationRow(
            d,
            k,
            c["awarded"],
            c["enrolled"],
            c["attended"],
            _rate(c["enrolled"], c["awarded"]),
            _rate(c["attended"], c["awarded"]),
        )
        for (d, k), c in sorted(tally.items())
    ]


# --- retention by programme ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionPoint:
    months: int
    eligible: int  # enrolments confirmed at least this many months before the figures' time
    retained: int  # of those, still enrolled this many months after confirmation
    rate: float | None


@dataclass(frozen=True)
class RetentionRow:
    programme_id: UUID
    provider_id: UUID
    district: str
    direction: str
    enrolments: int
    points: list[RetentionPoint]


def retention(facts: Facts) -> list[RetentionRow]:
    as_of = facts.freshness
    by_programme: dict[UUID, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    info: dict[UUID, tuple[UUID, str, str]] = {}
    for e in facts.enrolments:
        by_programme[e.programme_id].append((e.confirmed_at, e.ended_at))
        info[e.programme_id] = (e.provider_id, e.district_code, e.direction)
    rows = []
    for programme_id, spans in sorted(by_programme.items(), key=lambda item: str(item[0])):
        points = []
        for months in RETENTION_MONTHS:
            eligible = [(s, end) for s, end in spans if as_of is not None and add_months(s, months) <= as_of]
            retained = sum(1 for s, end in eligible if end is None or end >= add_months(s, months))
            points.append(RetentionPoint(months, len(eligible), retained, _rate(retained, len(eligible))))
        provider_id, district, direction = info[programme_id]
        rows.append(RetentionRow(programme_id, provider_id, district, direction, len(spans), points))
    return rows


# --- attendance confirmation and disputes -------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendanceRow:
    period: str
    timesheets: int
    confirmed: int
    guardian_confirmed: int
    disputed: int
    resolved: int
    confirmation_rate: float | None
    dispute_rate: float | None


def attendance(facts: Facts, period: str | None) -> list[AttendanceRow]:
    tally: dict[str, Counter[str]] = defaultdict(Counter)
    for t in facts.timesheets:
        if period is not None and t.period != period:
            continue
        c = tally[t.period]
        c["timesheets"] += 1
        c["confirmed"] += t.confirmed
        c["guardian_confirmed"] += t.guardian_confirmed
        c["disputed"] += t.disputed
        c["resolved"] += t.resolved
    return [
        AttendanceRow(
            p,
            c["timesheets"],
            c["confirmed"],
            c["guardian_confirmed"],
            c["disputed"],
            c["resolved"],
            _rate(c["confirmed"], c["timesheets"]),
            _rate(c["disputed"], c["timesheets"]),
        )
        for p, c in sorted(tally.items())
    ]


# --- budget -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthAmount:
    period: str
    accrued_tiyn: int
    paid_tiyn: int


@dataclass(frozen=True)
class Budget:
    year: int
    budget_tiyn: int | None
    committed_tiyn: int  # awarded vouchers' value, less revoked and expired ones
    accrued_tiyn: int
    paid_tiyn: int
    months: list[MonthAmount]
    monthly_burn_tiyn: int | None  # the average accrual per month since the first accrued month of the year
    forecast_year_end_tiyn: int | None  # accrued so far plus that burn for every month left in the year


def budget(facts: Facts, year: int) -> Budget:
    prefix = f"{year:04d}-"
    accrued: Counter[str] = Counter()
    paid: Counter[str] = Counter()
    for a in facts.accruals:
        if a.period.startswith(prefix):
            accrued[a.period] += a.amount_tiyn
    for p in facts.payouts:
        if p.period.startswith(prefix):
            paid[p.period] += p.amount_tiyn
    committed = sum(v.monthly_value_tiyn * v.months for v in facts.vouchers if v.end_kind is None)
    months = [MonthAmount(m, accrued[m], paid[m]) for m in sorted(set(accrued) | set(paid))]
    total = sum(accrued.values())
    burn = forecast = None
    if accrued:
        first, last = int(min(accrued)[5:]), int(max(accrued)[5:])
        burn = total // (last - first + 1)
        forecast = total + burn * (12 - last)
    return Budget(
        year,
        facts.region.budget_tiyn if facts.region else None,
        committed,
        total,
        sum(paid.values()),
        months,
        burn,
        forecast,
    )


@dataclass(frozen=True)
class ProviderPayments:
    provider_id: UUID
    accrued_tiyn: int
    paid_tiyn: int
    outstanding_tiyn: int


def provider_payments(facts: Facts, period: str | None) -> list[ProviderPayments]:
    accrued: Counter[UUID] = Counter()
    paid: Counter[UUID] = Counter()
    for a in facts.accruals:
        if period is None or a.period == period:
            accrued[a.provider_id] += a.amount_tiyn
    for p in facts.payouts:
        if period is None or p.period == period:
            paid[p.provider_id] += p.amount_tiyn
    return [
        ProviderPayments(pid, accrued[pid], paid[pid], accrued[pid] - paid[pid])
        for pid in sorted(set(accrued) | set(paid), key=str)
    ]


# --- time from application to the first lesson --------------------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    district: str
    children: int
    median_days: float | None
    mean_days: float | None
    max_days: int | None


def _waiting(district: str, days: list[int]) -> Waiting:
    if not days:
        return Waiting(district, 0, None, None, None)
    return Waiting(district, len(days), float(statistics.median(days)), round(statistics.fmean(days), 2), max(days))


def time_to_first_lesson(facts: Facts, where: Filter) -> list[Waiting]:
    """Days from the application to the first attended session of the enrolment its voucher funded."""
    first: dict[UUID, date] = {}
    for t in facts.timesheets:
        if t.first_attended_on is not None:
            known = first.get(t.enrolment_id)
            if known is None or t.first_attended_on < known:
                first[t.enrolment_id] = t.first_attended_on
    enrolment_of = {e.voucher_id: e.enrolment_id for e in facts.enrolments if e.voucher_id}
    application_of = {v.application_id: v.voucher_id for v in facts.vouchers if v.application_id}
    days: dict[str, list[int]] = defaultdict(list)
    for a in applications(facts, where):
        voucher_id = application_of.get(a.application_id)
        enrolment_id = enrolment_of.get(voucher_id) if voucher_id else None
        lesson = first.get(enrolment_id) if enrolment_id else None
        if lesson is not None:
            days[a.district_code].append((lesson - a.submitted_at.date()).days)
    everyone = [d for values in days.values() for d in values]
    return [*(_waiting(district, values) for district, values in sorted(days.items())), _waiting("*", everyone)]


# --- equity ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryShare:
    category: str
    applicants: int
    vouchers: int
    applicant_share: float | None
    voucher_share: float | None
    ratio: float | None  # voucher share / applicant share: below 1, the category gets less than its share
    below_region: bool  # the ratio is below the same category's ratio over the whole region


@dataclass(frozen=True)
class DistrictEquity:
    district: str
    applicants: int
    vouchers: int
    award_rate: float | None
    below_region: bool  # the district's award rate is below the region's
    child_population: int | None  # children of the region's child age in the district (the region file)
    coverage_per_1000: float | None  # vouchers per 1,000 of those children: None, no population is known
    coverage_below_region: bool  # the district's coverage is below the region's
    categories: list[CategoryShare]


@dataclass(frozen=True)
class Equity:
    region_award_rate: float | None
    population_known: bool  # every district of the region has a child population
    region_coverage_per_1000: float | None  # over the districts with a population
    region: list[CategoryShare]
    districts: list[DistrictEquity]


def _shares(
    applicants: dict[str, set[str]], awarded: dict[str, set[str]], baseline: dict[str, float | None] | None
) -> list[CategoryShare]:
    total_applicants = len(set().union(*applicants.values())) if applicants else 0
    total_vouchers = len(set().union(*awarded.values())) if awarded else 0
    rows = []
    for category in sorted(set(applicants) | set(awarded)):
        a, v = len(applicants.get(category, ())), len(awarded.get(category, ()))
        applicant_share, voucher_share = _rate(a, total_applicants), _rate(v, total_vouchers)
        ratio = round(voucher_share / applicant_share, 4) if applicant_share and voucher_share is not None else None
        reference = baseline.get(category) if baseline else None
        below = ratio is not None and reference is not None and ratio < reference
        rows.append(CategoryShare(category, a, v, applicant_share, voucher_share, ratio, below))
    return rows


def equity(facts: Facts, where: Filter) -> Equity:
    """Each category's share of the vouchers against its share of the applicants (distinct children)."""
    awarded_apps = {v.application_id for v in facts.vouchers}
    by_district: dict[str, tuple[dict[str, set[str]], dict[str, set[str]]]] = defaultdict(
        lambda: (defaultdict(set), defaultdict(set))
    )
    region_applicants: dict[str, set[str]] = defaultdict(set)
    region_awarded: dict[str, set[str]] = defaultdict(set)
    for a in applications(facts, where):
        who = a.child_key or str(a.application_id)
        applicants, awarded = by_district[a.district_code]
        for category in _categories(facts, a.child_key):
            applicants[category].add(who)
            region_applicants[category].add(who)
            if a.application_id in awarded_apps:
                awarded[category].add(who)
                region_awarded[category].add(who)
    region_rows = _shares(region_applicants, region_awarded, None)
    baseline = {row.category: row.ratio for row in region_rows}
    total_a = len(set().union(*region_applicants.values())) if region_applicants else 0
    total_v = len(set().union(*region_awarded.values())) if region_awarded else 0
    region_rate = _rate(total_v, total_a)
    population = facts.region.child_population if facts.region else {}
    counted = {
        district: (
            len(set().union(*applicants.values())) if applicants else 0,
            len(set().union(*awarded.values())) if awarded else 0,
        )
        for district, (applicants, awarded) in by_district.items()
    }
    region_coverage = _coverage(
        sum(counted.get(d, (0, 0))[1] for d in population), sum(population.values()) if population else None
    )
    districts = []
    for district in sorted(set(by_district) | set(population)):
        applicants, awarded = by_district[district]
        n_applicants, n_vouchers = counted.get(district, (0, 0))
        rate = _rate(n_vouchers, n_applicants)
        below = rate is not None and region_rate is not None and rate < region_rate
        coverage = _coverage(n_vouchers, population.get(district))
        low_coverage = coverage is not None and region_coverage is not None and coverage < region_coverage
        shares = _shares(applicants, awarded, baseline)
        districts.append(
            DistrictEquity(
                district,
                n_applicants,
                n_vouchers,
                rate,
                below,
                population.get(district),
                coverage,
                low_coverage,
                shares,
            )
        )
    known = facts.region is not None and all(d in population for d in facts.region.districts)
    return Equity(region_rate, known, region_coverage, region_rows, districts)


def _coverage(vouchers: int, children: int | None) -> float | None:
    """Vouchers per 1,000 children (None without a population, or a population of zero)."""
    return round(vouchers * 1000 / children, 4) if children else None


# --- open data tables ---------------------------------------------------------------------------------------------

OPEN_DATASETS: dict[str, tuple[str, str]] = {
    "applications": ("district", "direction"),
    "awards": ("district", "direction"),
    "waitlisted": ("district", "direction"),
    "enrolments": ("district", "direction"),
    "applicants_by_category": ("district", "category"),
    "awards_by_category": ("district", "category"),
    "applications_by_age_band": ("district", "age_band"),
}


def open_table(facts: Facts, dataset: str, where: Filter) -> dict[tuple[str, str], int]:
    """The counts of one open dataset, as a (row, column) table before suppression."""
    if dataset == "enrolments":
        return dict(Counter((e.district_code, e.direction) for e in facts.enrolments))
    if dataset in ("applicants_by_category", "awards_by_category"):
        share = equity(facts, where)
        pick: Callable[[CategoryShare], int] = (
            (lambda c: c.applicants) if dataset == "applicants_by_category" else (lambda c: c.vouchers)
        )
        return {(d.district, c.category): pick(c) for d in share.districts for c in d.categories}
    row, column = OPEN_DATASETS[dataset]
    measure = {"applications": "applications", "awards": "awards", "waitlisted": "waitlisted"}.get(
        dataset, "applications"
    )
    return {(r.dimensions[row], r.dimensions[column]): getattr(r, measure) for r in counts(facts, (row, column), where)}


def known_districts(facts: Facts, extra: Iterable[str] = ()) -> list[str]:
    return sorted(set(facts.region.districts if facts.region else []) | set(extra))
