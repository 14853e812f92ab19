"""Reconciliation (reference/reliability.md §2.3, I5-I7 and I12): the ledger against itself, and payments
against allocation (every awarded voucher has a funded voucher account of the same value) and attendance
(every confirmed, payable timesheet has exactly its posted accrual). Every difference is a finding."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from payments.adapters import ledger_checks, records
from payments.adapters.ledger_checks import Finding
from payments.adapters.peers import Peers, PeerUnavailable
from payments.domain.accrual import accrual_amount

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
    findings: list[Finding]


async def reconcile(
    sessions: async_sessionmaker[AsyncSession],
    peers: Peers,
    token: str,
    region_code: str | None,
    period: str | None,
    now: datetime,
) -> Report:
    async with sessions() as session:
        findings = await ledger_checks.ledger_findings(session)
        findings += await _parked(session)
        findings += await _refusals(session, region_code)
        for round_ in await records.rounds_of_region(session, region_code):
            findings += await _vouchers(session, peers, token, round_.round_id)
        checked: set[str] = set()
        for region, periods in (await _periods(session, region_code, period)).items():
            for month in periods:
                checked.add(month)
                findings += await _accruals(session, peers, token, region, month)
    return Report(region_code, sorted(checked), now, findings)


async def _rows(session: AsyncSession, sql: str, **params: Any) -> list[Any]:
    return list(await session.execute(text(sql), params))


async def _parked(session: AsyncSession) -> list[Finding]:
    rows = await _rows(session, "SELECT event_type, waiting_for, event_id, parked_at FROM parked_event ORDER BY id")
    return [
        Finding(
            "no_event_parked",
            str(r.event_id),
            f"{r.event_type} waits for {r.waiting_for} since {r.parked_at:%Y-%m-%d %H:%M}Z",
        )
        for r in rows
    ]


async def _refusals(session: AsyncSession, region_code: str | None) -> list[Finding]:
    rows = await _rows(
        session,
        "SELECT voucher_id, round_id, requested_tiyn, available_at_refusal_tiyn FROM voucher WHERE status = 'refused'"
        " AND (CAST(:r AS TEXT) IS NULL OR region_code = :r) ORDER BY created_at",
        r=region_code,
    )
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
    ours = {
        r.voucher_id: r
        for r in await _rows(
            session,
            "SELECT voucher_id, monthly_value_tiyn, months, status FROM voucher WHERE round_id = :r",
            r=round_id,
        )
    }
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
    rows = await _rows(
        session,
        "SELECT DISTINCT region_code, period FROM accrual WHERE CAST(:r AS TEXT) IS NULL OR region_code = :r"
        " UNION SELECT DISTINCT e.region_code, h.period FROM hold h JOIN enrolment e ON e.enrolment_id = h.enrolment_id"
        " WHERE CAST(:r AS TEXT) IS NULL OR e.region_code = :r",
        r=region_code,
    )
    result: dict[str, set[str]] = {}
    for row in rows:
        if period is None or row.period == period:
            result.setdefault(row.region_code, set()).add(row.period)
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
    ours = {
        r.enrolment_id: r
        for r in await _rows(
            session,
            "SELECT a.enrolment_id, a.amount_tiyn, a.payable_sessions, a.planned_sessions, a.price_per_month_tiyn,"
            " v.monthly_value_tiyn FROM accrual a JOIN voucher v ON v.voucher_id = a.voucher_id"
            " WHERE a.region_code = :r AND a.period = :p",
            r=region,
            p=period,
        )
    }
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
