"""Reconciliation (docs/architecture.md, Invariants: I5-I7 and I12): the ledger against itself, and payments
against allocation (every awarded voucher has a funded voucher account of the same value) and attendance
(every confirmed, payable timesheet has exactly its posted accrual). Every difference is a finding."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from payments.adapters import ledger_checks, parking_repository, reconciliation_queries, round_repository
from payments.adapters.ledger_checks import Finding
from payments.adapters.peers import Peers, PeerUnavailable
from payments.domain.accrual import accrual_amount
from payments.service_layer.dependencies import Dependencies

CHECKS = [
    *ledger_checks.CHECKS,
    "no_event_parked",
    "no_funding_refused",
    "vouchers_match_allocation",
    "accruals_match_attendance",
]


@dataclass(frozen=True)
class Report:
    region_code: str | None
    periods: list[str]
    checked_at: datetime
    checks: list[str]
    findings: list[Finding]


async def reconcile(deps: Dependencies, token: str, region_code: str | None, period: str | None) -> Report:
    """Check the ledger and compare it with allocation's vouchers and attendance's payable timesheets (``token``,
    the caller's, is forwarded to both: each applies its own authorisation)."""
    now = deps.clock.now()
    async with deps.peers() as peers, deps.sessions() as session:
        findings = await ledger_checks.ledger_findings(session)
        findings += await _parked(session)
        findings += await _refusals(session, region_code)
        for round_ in await round_repository.rounds_of_region(session, region_code):
            findings += await _vouchers(session, peers, token, round_.round_id)
        checked: set[str] = set()
        for region, periods in (await _periods(session, region_code, period)).items():
            for month in periods:
                checked.add(month)
                findings += await _accruals(session, peers, token, region, month)
    return Report(region_code, sorted(checked), now, CHECKS, findings)


async def _parked(session: AsyncSession) -> list[Finding]:
    rows = await parking_repository.parked_since(session)
    return [
        Finding(
            "no_event_parked",
            str(r.event_id),
            f"{r.event_type} waits for {r.waiting_for} since {r.parked_at:%Y-%m-%d %H:%M}Z",
        )
        for r in rows
    ]


async def _refusals(session: AsyncSession, region_code: str | None) -> list[Finding]:
    rows = await reconciliation_queries.refused_vouchers(session, region_code)
    return [
        Finding(
            "no_funding_refused",
            str(r.voucher_id),
            f"voucher awarded in round {r.round_id} was not funded: {r.requested_tiyn} tiyn requested,"
            f" {r.available_at_refusal_tiyn} available",
        )
        for r in rows
    ]


async def _vouchers(session: AsyncSession, peers: Peers, token: str, round_id: UUID) -> list[Finding]:
    try:
        theirs = {UUID(v["voucher_id"]): v for v in await peers.vouchers_of_round(round_id, token)}
    except PeerUnavailable as exc:
        return [Finding("vouchers_match_allocation", str(round_id), f"could not read the round's vouchers: {exc}")]
    ours = await reconciliation_queries.vouchers_of_round(session, round_id)
    found = [
        Finding("vouchers_match_allocation", str(v), "awarded by allocation, unknown to payments")
        for v in sorted(theirs.keys() - ours.keys())
    ]
    found += [
        Finding(
            "vouchers_match_allocation",
            str(v),
            f"{'refused' if ours[v].status == 'refused' else 'funded'} by payments, not awarded by allocation",
        )
        for v in sorted(ours.keys() - theirs.keys())
    ]
    for voucher_id in sorted(theirs.keys() & ours.keys()):
        a, p = theirs[voucher_id], ours[voucher_id]
        if (int(a["monthly_value_tiyn"]), int(a["months"])) != (p.monthly_value_tiyn, p.months):
            found.append(
                Finding(
                    "vouchers_match_allocation",
                    str(voucher_id),
                    f"allocation says {a['monthly_value_tiyn']} × {a['months']}, payments funded"
                    f" {p.monthly_value_tiyn} × {p.months}",
                )
            )
    return found


async def _periods(session: AsyncSession, region_code: str | None, period: str | None) -> dict[str, list[str]]:
    result: dict[str, set[str]] = {}
    for region, month in await reconciliation_queries.periods_with_money(session, region_code):
        if period is None or month == period:
            result.setdefault(region, set()).add(month)
    if period is not None and region_code is not None:
        result.setdefault(region_code, set()).add(period)
    return {region: sorted(months) for region, months in sorted(result.items())}


async def _accruals(session: AsyncSession, peers: Peers, token: str, region: str, period: str) -> list[Finding]:
    subject = f"{region} {period}"
    try:
        sheets = await peers.payable_timesheets(region, period, token)
    except PeerUnavailable as exc:
        return [Finding("accruals_match_attendance", subject, f"could not read the payable timesheets: {exc}")]
    theirs = {UUID(s["enrolment_id"]): s for s in sheets}
    ours = await reconciliation_queries.accruals_of(session, region, period)
    found = [
        Finding("accruals_match_attendance", f"{e} {period}", "a confirmed timesheet has no posted accrual")
        for e in sorted(theirs.keys() - ours.keys())
    ]
    found += [
        Finding("accruals_match_attendance", f"{e} {period}", "an accrual has no confirmed timesheet in attendance")
        for e in sorted(ours.keys() - theirs.keys())
    ]
    for enrolment_id in sorted(theirs.keys() & ours.keys()):
        sheet, accrual = theirs[enrolment_id], ours[enrolment_id]
        if (int(sheet["payable_sessions"]), int(sheet["planned_sessions"])) != (
            accrual.payable_sessions,
            accrual.planned_sessions,
        ):
            found.append(
                Finding(
                    "accruals_match_attendance",
                    f"{enrolment_id} {period}",
                    f"attendance says {sheet['payable_sessions']}/{sheet['planned_sessions']} sessions, the accrual"
                    f" was posted for {accrual.payable_sessions}/{accrual.planned_sessions}",
                )
            )
        formula = accrual_amount(
            accrual.price_per_month_tiyn, accrual.payable_sessions, accrual.planned_sessions, accrual.monthly_value_tiyn
        )
        if accrual.amount_tiyn > formula:
            found.append(
                Finding(
                    "accruals_match_attendance",
                    f"{enrolment_id} {period}",
                    f"posted {accrual.amount_tiyn} tiyn, more than the rule allows ({formula})",
                )
            )
    return found
