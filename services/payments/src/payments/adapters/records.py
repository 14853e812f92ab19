"""Payments' own records next to the ledger: rounds, vouchers, providers, enrolments, holds, accruals,
budget thresholds and parked events."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from payments.domain.records import Accrual, Enrolment, Hold, Month, Provider, Round, Voucher


async def _one(session: AsyncSession, sql: str, **params: Any) -> Any:
    return (await session.execute(text(sql), params)).first()


# --- regions ------------------------------------------------------------------------------------------


async def region_timezone(session: AsyncSession, region_code: str) -> str | None:
    row = await _one(session, "SELECT timezone FROM region_budget WHERE region_code = :c", c=region_code)
    return row.timezone if row else None


# --- rounds -------------------------------------------------------------------------------------------


async def insert_round(
    session: AsyncSession, round_id: UUID, region_code: str, budget_tiyn: int, account_code: str, opened_at: datetime
) -> bool:
    row = await _one(
        session,
        "INSERT INTO funding_round (round_id, region_code, budget_tiyn, account_id, opened_at)"
        " SELECT :r, :region, :budget, id, :at FROM account WHERE code = :code"
        " ON CONFLICT (round_id) DO NOTHING RETURNING round_id",
        r=round_id,
        region=region_code,
        budget=budget_tiyn,
        code=account_code,
        at=opened_at,
    )
    return row is not None


async def get_round(session: AsyncSession, round_id: UUID) -> Round | None:
    row = await _one(
        session, "SELECT round_id, region_code, budget_tiyn FROM funding_round WHERE round_id = :r", r=round_id
    )
    return Round(row.round_id, row.region_code, row.budget_tiyn) if row else None


@dataclass(frozen=True)
class RoundOfAward:
    round: Round | None  # None while the round is not here
    voucher_recorded: bool
    thresholds_reached: frozenset[int]
    budget_balance: int  # the round budget account's, read under its lock
    budget_available: int


async def round_of_award(session: AsyncSession, round_id: UUID, voucher_id: UUID) -> RoundOfAward:
    """What funding an award needs, in one query: its round with the round budget's account locked (the funding is
    decided under that lock, so two awards never spend the same money), whether the voucher is already recorded,
    and the budget thresholds the round has reached."""
    row = await _one(
        session,
        "SELECT r.round_id, r.region_code, r.budget_tiyn, a.balance, a.balance - a.pending_debits AS available,"
        " EXISTS (SELECT 1 FROM voucher WHERE voucher_id = :v) AS recorded,"
        " ARRAY(SELECT threshold_percent FROM budget_threshold WHERE round_id = :r) AS reached"
        " FROM funding_round r JOIN account a ON a.id = r.account_id WHERE r.round_id = :r FOR UPDATE OF a",
        r=round_id,
        v=voucher_id,
    )
    if row is None:
        return RoundOfAward(None, False, frozenset(), 0, 0)
    return RoundOfAward(
        Round(row.round_id, row.region_code, row.budget_tiyn),
        bool(row.recorded),
        frozenset(row.reached),
        int(row.balance),
        int(row.available),
    )


async def rounds_of_region(session: AsyncSession, region_code: str | None) -> list[Round]:
    rows = await session.execute(
        text(
            "SELECT round_id, region_code, budget_tiyn FROM funding_round"
            " WHERE CAST(:region AS TEXT) IS NULL OR region_code = :region ORDER BY opened_at, round_id"
        ),
        {"region": region_code},
    )
    return [Round(r.round_id, r.region_code, r.budget_tiyn) for r in rows]


# --- vouchers -----------------------------------------------------------------------------------------

_VOUCHER_COLUMNS = (
    "SELECT voucher_id, round_id, region_code, child_id, monthly_value_tiyn, months, valid_until, requested_tiyn,"
    " status"
)
_VOUCHER = f"{_VOUCHER_COLUMNS} FROM voucher"


def _voucher(row: Any) -> Voucher:
    return Voucher(
        voucher_id=row.voucher_id,
        round_id=row.round_id,
        region_code=row.region_code,
        child_id=row.child_id,
        monthly_value_tiyn=row.monthly_value_tiyn,
        months=row.months,
        valid_until=row.valid_until,
        requested_tiyn=row.requested_tiyn,
        status=row.status,
    )


async def voucher_and_timezone(
    session: AsyncSession, voucher_id: UUID, region_code: str
) -> tuple[Voucher | None, str | None]:
    """A voucher (None while it is not here) and, with it, its region's time zone (None while not configured)."""
    row = await _one(
        session,
        f"{_VOUCHER_COLUMNS}, (SELECT timezone FROM region_budget WHERE region_code = :region) AS region_timezone"
        " FROM voucher WHERE voucher_id = :v",
        v=voucher_id,
        region=region_code,
    )
    return (_voucher(row), row.region_timezone) if row else (None, None)


async def get_voucher(session: AsyncSession, voucher_id: UUID, *, lock: bool = False) -> Voucher | None:
    row = await _one(session, f"{_VOUCHER} WHERE voucher_id = :v{' FOR UPDATE' if lock else ''}", v=voucher_id)
    return _voucher(row) if row else None


async def insert_voucher(
    session: AsyncSession,
    *,
    voucher_id: UUID,
    round_id: UUID,
    region_code: str,
    child_id: UUID,
    direction: str,
    monthly_value_tiyn: int,
    months: int,
    valid_until: date,
    account_code: str | None,
    available_at_refusal_tiyn: int | None,
) -> None:
    await session.execute(
        text(
            "INSERT INTO voucher (voucher_id, round_id, region_code, child_id, direction, monthly_value_tiyn, months,"
            " valid_until, requested_tiyn, status, account_id, available_at_refusal_tiyn)"
            " VALUES (:v, :r, :region, :child, :direction, :monthly, :months, :until, :requested, :status,"
            " (SELECT id FROM account WHERE code = :code), :available)"
        ),
        {
            "v": voucher_id,
            "r": round_id,
            "region": region_code,
            "child": child_id,
            "direction": direction,
            "monthly": monthly_value_tiyn,
            "months": months,
            "until": valid_until,
            "requested": monthly_value_tiyn * months,
            "status": "refused" if account_code is None else "funded",
            "code": account_code,
            "available": available_at_refusal_tiyn,
        },
    )


async def end_voucher(session: AsyncSession, voucher_id: UUID, reason: str, at: datetime) -> None:
    await session.execute(
        text("UPDATE voucher SET status = 'ended', ended_reason = :reason, ended_at = :at WHERE voucher_id = :v"),
        {"v": voucher_id, "reason": reason, "at": at},
    )


async def refusals(session: AsyncSession, round_id: UUID) -> list[Any]:
    rows = await session.execute(
        text(
            "SELECT voucher_id, requested_tiyn, available_at_refusal_tiyn, created_at FROM voucher"
            " WHERE round_id = :r AND status = 'refused' ORDER BY created_at, voucher_id"
        ),
        {"r": round_id},
    )
    return list(rows)


# --- providers ----------------------------------------------------------------------------------------


async def upsert_provider(session: AsyncSession, provider: Provider) -> None:
    await session.execute(
        text(
            "INSERT INTO provider (provider_id, bin, name, region_code, iban, bank_bic)"
            " VALUES (:p, :bin, :name, :region, :iban, :bic) ON CONFLICT (provider_id) DO UPDATE SET"
            " bin = excluded.bin, name = excluded.name, region_code = excluded.region_code, iban = excluded.iban,"
            " bank_bic = excluded.bank_bic, updated_at = now()"
        ),
        {
            "p": provider.provider_id,
            "bin": provider.bin,
            "name": provider.name,
            "region": provider.region_code,
            "iban": provider.iban,
            "bic": provider.bank_bic,
        },
    )


async def providers(session: AsyncSession, ids: list[UUID]) -> dict[UUID, Provider]:
    rows = await session.execute(
        text("SELECT provider_id, bin, name, region_code, iban, bank_bic FROM provider WHERE provider_id = ANY(:ids)"),
        {"ids": ids},
    )
    return {r.provider_id: Provider(r.provider_id, r.bin, r.name, r.region_code, r.iban, r.bank_bic) for r in rows}


# --- enrolments and holds -----------------------------------------------------------------------------

_ENROLMENT = (
    "SELECT enrolment_id, voucher_id, provider_id, child_id, programme_id, region_code, price_per_month_tiyn,"
    " sessions_per_month, status FROM enrolment"
)


async def get_enrolment(session: AsyncSession, enrolment_id: UUID) -> Enrolment | None:
    row = await _one(session, f"{_ENROLMENT} WHERE enrolment_id = :e", e=enrolment_id)
    return _enrolment(row) if row else None


async def enrolment_and_voucher(session: AsyncSession, enrolment_id: UUID) -> tuple[Enrolment, Voucher] | None:
    """The enrolment and its voucher, the voucher's row locked (its months' money is decided under that lock)."""
    row = await _one(
        session,
        "SELECT e.enrolment_id, e.voucher_id, e.provider_id, e.child_id, e.programme_id, e.region_code,"
        " e.price_per_month_tiyn, e.sessions_per_month, e.status, v.round_id, v.region_code AS voucher_region_code,"
        " v.child_id AS voucher_child_id, v.monthly_value_tiyn, v.months, v.valid_until, v.requested_tiyn,"
        " v.status AS voucher_status"
        " FROM enrolment e JOIN voucher v ON v.voucher_id = e.voucher_id WHERE e.enrolment_id = :e FOR UPDATE OF v",
        e=enrolment_id,
    )
    if row is None:
        return None
    voucher = Voucher(
        voucher_id=row.voucher_id,
        round_id=row.round_id,
        region_code=row.voucher_region_code,
        child_id=row.voucher_child_id,
        monthly_value_tiyn=row.monthly_value_tiyn,
        months=row.months,
        valid_until=row.valid_until,
        requested_tiyn=row.requested_tiyn,
        status=row.voucher_status,
    )
    return _enrolment(row), voucher


def _enrolment(row: Any) -> Enrolment:
    return Enrolment(
        enrolment_id=row.enrolment_id,
        voucher_id=row.voucher_id,
        provider_id=row.provider_id,
        child_id=row.child_id,
        programme_id=row.programme_id,
        region_code=row.region_code,
        price_per_month_tiyn=row.price_per_month_tiyn,
        sessions_per_month=row.sessions_per_month,
        status=row.status,
    )


async def insert_enrolment(session: AsyncSession, enrolment: Enrolment, first_period: str, at: datetime) -> bool:
    row = await _one(
        session,
        "INSERT INTO enrolment (enrolment_id, voucher_id, provider_id, child_id, programme_id, region_code,"
        " price_per_month_tiyn, sessions_per_month, first_period, confirmed_at)"
        " VALUES (:e, :v, :p, :c, :prog, :region, :price, :sessions, :period, :at)"
        " ON CONFLICT (enrolment_id) DO NOTHING RETURNING enrolment_id",
        e=enrolment.enrolment_id,
        v=enrolment.voucher_id,
        p=enrolment.provider_id,
        c=enrolment.child_id,
        prog=enrolment.programme_id,
        region=enrolment.region_code,
        price=enrolment.price_per_month_tiyn,
        sessions=enrolment.sessions_per_month,
        period=first_period,
        at=at,
    )
    return row is not None


async def end_enrolment(session: AsyncSession, enrolment_id: UUID, period: str, at: datetime) -> bool:
    row = await _one(
        session,
        "UPDATE enrolment SET status = 'ended', ended_period = :period, ended_at = :at"
        " WHERE enrolment_id = :e AND status = 'active' RETURNING enrolment_id",
        e=enrolment_id,
        period=period,
        at=at,
    )
    return row is not None


def _hold(row: Any) -> Hold:
    return Hold(row.transfer_id, row.enrolment_id, row.period, row.seq, row.amount_tiyn, row.status)


_HOLD = "SELECT transfer_id, enrolment_id, period, seq, amount_tiyn, status FROM hold"


async def open_holds(session: AsyncSession, enrolment_id: UUID) -> list[Hold]:
    rows = await session.execute(
        text(f"{_HOLD} WHERE enrolment_id = :e AND status = 'open' ORDER BY period, seq"), {"e": enrolment_id}
    )
    return [_hold(r) for r in rows]


async def open_holds_of_voucher(session: AsyncSession, voucher_id: UUID) -> list[Hold]:
    rows = await session.execute(
        text(
            "SELECT h.transfer_id, h.enrolment_id, h.period, h.seq, h.amount_tiyn, h.status FROM hold h"
            " JOIN enrolment e ON e.enrolment_id = h.enrolment_id WHERE e.voucher_id = :v AND h.status = 'open'"
        ),
        {"v": voucher_id},
    )
    return [_hold(r) for r in rows]


async def open_holds_before(session: AsyncSession, period: str, limit: int) -> list[Hold]:
    rows = await session.execute(
        text(f"{_HOLD} WHERE status = 'open' AND period < :p ORDER BY period, transfer_id LIMIT :n"),
        {"p": period, "n": limit},
    )
    return [_hold(r) for r in rows]


async def month_of(session: AsyncSession, enrolment_id: UUID, period: str) -> Month:
    """Whether (enrolment, period) is accrued, its open hold and the number its next hold takes: one query."""
    row = await _one(
        session,
        "SELECT EXISTS (SELECT 1 FROM accrual WHERE enrolment_id = :e AND period = :p) AS accrued,"
        " (SELECT coalesce(max(seq), 0) + 1 FROM hold WHERE enrolment_id = :e AND period = :p) AS next_seq,"
        " h.transfer_id, h.enrolment_id, h.period, h.seq, h.amount_tiyn, h.status"
        " FROM (SELECT 1) AS one LEFT JOIN hold h ON h.enrolment_id = :e AND h.period = :p AND h.status = 'open'",
        e=enrolment_id,
        p=period,
    )
    open_hold = _hold(row) if row.transfer_id is not None else None
    return Month(accrued=row.accrued, open_hold=open_hold, next_hold_seq=int(row.next_seq))


async def insert_hold(session: AsyncSession, hold: Hold) -> None:
    await session.execute(
        text(
            "INSERT INTO hold (transfer_id, enrolment_id, period, seq, amount_tiyn) VALUES (:t, :e, :p, :seq, :amount)"
        ),
        {"t": hold.transfer_id, "e": hold.enrolment_id, "p": hold.period, "seq": hold.seq, "amount": hold.amount_tiyn},
    )


async def resolve_hold(session: AsyncSession, transfer_id: UUID, status: str, at: datetime) -> None:
    await session.execute(
        text("UPDATE hold SET status = :s, resolved_at = :at WHERE transfer_id = :t AND status = 'open'"),
        {"t": transfer_id, "s": status, "at": at},
    )


# --- accruals -----------------------------------------------------------------------------------------

_ACCRUAL = (
    "SELECT accrual_id, enrolment_id, period, provider_id, child_id, voucher_id, programme_id, timesheet_id,"
    " region_code, amount_tiyn, payable_sessions, planned_sessions, price_per_month_tiyn, batch_id, paid_at, posted_at"
    " FROM accrual"
)


def accrual_of(row: Any) -> Accrual:
    return Accrual(**{name: getattr(row, name) for name in Accrual.__dataclass_fields__})


async def record_posting(
    session: AsyncSession,
    accrual: Accrual,
    *,
    hold_id: UUID | None,
    round_id: UUID,
    transfer_id: UUID | None,
    cause_event_id: UUID,
    at: datetime,
) -> None:
    """A month was posted: its hold (when it had one) is marked posted and its accrual recorded, in one statement."""
    values = {name: getattr(accrual, name) for name in Accrual.__dataclass_fields__}
    values.pop("batch_id")
    values.pop("paid_at")
    values.update(round_id=round_id, transfer_id=transfer_id, cause_event_id=cause_event_id)
    columns = ", ".join(values)
    await session.execute(
        text(
            "WITH posted AS (UPDATE hold SET status = 'posted', resolved_at = :resolved_at"
            " WHERE transfer_id = :hold_id AND status = 'open')"
            f" INSERT INTO accrual ({columns}) VALUES ({', '.join(':' + c for c in values)})"
        ),
        {**values, "hold_id": hold_id, "resolved_at": at},
    )


# --- budget thresholds --------------------------------------------------------------------------------


async def record_threshold(session: AsyncSession, round_id: UUID, percent: int, committed: int, at: datetime) -> bool:
    row = await _one(
        session,
        "INSERT INTO budget_threshold (round_id, threshold_percent, committed_tiyn, reached_at)"
        " VALUES (:r, :p, :c, :at) ON CONFLICT DO NOTHING RETURNING round_id",
        r=round_id,
        p=percent,
        c=committed,
        at=at,
    )
    return row is not None


async def thresholds(session: AsyncSession, round_id: UUID) -> list[Any]:
    rows = await session.execute(
        text(
            "SELECT threshold_percent, committed_tiyn, reached_at FROM budget_threshold WHERE round_id = :r"
            " ORDER BY threshold_percent"
        ),
        {"r": round_id},
    )
    return list(rows)


# --- parked events ------------------------------------------------------------------------------------


async def park(
    session: AsyncSession, waiting_for: str, event_id: UUID, event_type: str, topic: str, payload: dict[str, Any]
) -> None:
    await session.execute(
        text(
            "INSERT INTO parked_event (waiting_for, event_id, event_type, topic, payload)"
            " VALUES (:w, :e, :t, :topic, CAST(:p AS JSONB)) ON CONFLICT (event_id) DO NOTHING"
        ),
        {"w": waiting_for, "e": event_id, "t": event_type, "topic": topic, "p": json.dumps(payload)},
    )


_ARRIVED = {
    "region": "SELECT 1 FROM region_budget WHERE region_code = :k",
    "round": "SELECT 1 FROM funding_round WHERE round_id = CAST(:k AS uuid)",
    "voucher": "SELECT 1 FROM voucher WHERE voucher_id = CAST(:k AS uuid)",
    "enrolment": "SELECT 1 FROM enrolment WHERE enrolment_id = CAST(:k AS uuid)",
}


async def lock_awaited(session: AsyncSession, waiting_for: str) -> None:
    """Serialise parking on a key with its arrival (a lock held until the transaction ends): whoever parks after
    the arrival committed sees it; whoever parks before it is seen by the arrival's unpark."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": waiting_for})


async def has_arrived(session: AsyncSession, waiting_for: str) -> bool:
    kind, _, key = waiting_for.partition(":")
    return await _one(session, _ARRIVED[kind], k=key) is not None


async def take_parked(session: AsyncSession, waiting_for: str) -> list[Any]:
    rows = await session.execute(
        text("DELETE FROM parked_event WHERE waiting_for = :w RETURNING id, event_type, payload"), {"w": waiting_for}
    )
    return sorted(rows, key=lambda r: r.id)


async def parked(session: AsyncSession, limit: int, offset: int) -> tuple[int, list[Any]]:
    total = (await session.execute(text("SELECT count(*) FROM parked_event"))).scalar_one()
    rows = await session.execute(
        text(
            "SELECT id, waiting_for, event_id, event_type, topic, parked_at FROM parked_event"
            " ORDER BY id LIMIT :n OFFSET :o"
        ),
        {"n": limit, "o": offset},
    )
    return int(total), list(rows)


# --- burn ---------------------------------------------------------------------------------------------


async def round_figures(session: AsyncSession, round_id: UUID) -> dict[str, Any]:
    """Spent (posted accruals), the latest month with accruals and its burn, vouchers funded/refused, the last
    valid_until of its vouchers (the end of the school year as allocation set it)."""
    money = await _one(
        session,
        "SELECT coalesce(sum(amount_tiyn), 0) AS spent FROM accrual WHERE round_id = :r",
        r=round_id,
    )
    latest = await _one(
        session,
        "SELECT period, sum(amount_tiyn) AS burn FROM accrual WHERE round_id = :r GROUP BY period"
        " ORDER BY period DESC LIMIT 1",
        r=round_id,
    )
    vouchers = await _one(
        session,
        "SELECT count(*) FILTER (WHERE status <> 'refused') AS funded, count(*) FILTER (WHERE status = 'refused')"
        " AS refused, max(valid_until) FILTER (WHERE status <> 'refused') AS last_valid_until FROM voucher"
        " WHERE round_id = :r",
        r=round_id,
    )
    held = await _one(
        session,
        "SELECT coalesce(sum(a.pending_debits), 0) AS held FROM voucher v JOIN account a ON a.id = v.account_id"
        " WHERE v.round_id = :r",
        r=round_id,
    )
    return {
        "spent": int(money.spent),
        "latest_period": latest.period if latest else None,
        "latest_burn": int(latest.burn) if latest else 0,
        "funded": int(vouchers.funded),
        "refused": int(vouchers.refused),
        "last_valid_until": vouchers.last_valid_until,
        "held": int(held.held),
    }
