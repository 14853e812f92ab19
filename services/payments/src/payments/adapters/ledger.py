"""The ledger in PostgreSQL: accounts locked in id order, immutable transfers with two entries each.

The database enforces what must never break even if this code is wrong: CHECK constraints for no
overdraft, unique transfer ids and business keys, a hold resolved once, append-only triggers, and a
deferred constraint trigger that every transfer has exactly two entries netting to zero (migration 0002).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from payments.domain.ledger import (
    PENDING_KINDS,
    RELEASES,
    AccountKind,
    AlreadyResolved,
    LedgerError,
    Overdraft,
    Transfer,
    TransferConflict,
    TransferKind,
    account_code,
    allows_negative,
    check_shape,
)


@dataclass(frozen=True)
class AccountState:
    id: int
    code: str
    kind: AccountKind
    balance: int
    pending_debits: int
    pending_credits: int
    version: int

    @property
    def available(self) -> int:
        return self.balance - self.pending_debits


async def open_account(session: AsyncSession, kind: AccountKind, ref: object, region_code: str | None = None) -> str:
    """Create the account if it does not exist; its code either way."""
    code = account_code(kind, ref)
    await session.execute(
        text(
            "INSERT INTO account (code, kind, allow_negative, region_code) VALUES (:code, :kind, :neg, :region)"
            " ON CONFLICT (code) DO NOTHING"
        ),
        {"code": code, "kind": kind.value, "neg": allows_negative(kind), "region": region_code},
    )
    return code


def _state(row: Any) -> AccountState:
    return AccountState(
        id=row.id,
        code=row.code,
        kind=AccountKind(row.kind),
        balance=row.balance,
        pending_debits=row.pending_debits,
        pending_credits=row.pending_credits,
        version=row.version,
    )


async def lock(session: AsyncSession, codes: list[str]) -> dict[str, AccountState]:
    """Lock the accounts in ascending id order (no deadlock between transfers sharing accounts)."""
    rows = await session.execute(
        text(
            "SELECT id, code, kind, balance, pending_debits, pending_credits, version FROM account"
            " WHERE code = ANY(:codes) ORDER BY id FOR UPDATE"
        ),
        {"codes": sorted(set(codes))},
    )
    found = {row.code: _state(row) for row in rows}
    missing = set(codes) - found.keys()
    if missing:
        raise LedgerError(f"no such account: {', '.join(sorted(missing))}")
    return found


async def account(session: AsyncSession, code: str) -> AccountState | None:
    row = (
        await session.execute(
            text(
                "SELECT id, code, kind, balance, pending_debits, pending_credits, version FROM account"
                " WHERE code = :code"
            ),
            {"code": code},
        )
    ).first()
    return _state(row) if row else None


_TRANSFER_SELECT = (
    "SELECT t.id, t.business_key, t.kind, d.code AS debit, c.code AS credit, t.amount, t.pending_id, t.reverses_id"
    " FROM transfer t JOIN account d ON d.id = t.debit_account_id JOIN account c ON c.id = t.credit_account_id"
)


def _transfer(row: Any) -> Transfer:
    return Transfer(
        id=row.id,
        business_key=row.business_key,
        kind=TransferKind(row.kind),
        debit=row.debit,
        credit=row.credit,
        amount=row.amount,
        pending_id=row.pending_id,
        reverses_id=row.reverses_id,
    )


async def find(
    session: AsyncSession, *, transfer_id: UUID | None = None, business_key: str | None = None
) -> Transfer | None:
    row = (
        await session.execute(
            text(f"{_TRANSFER_SELECT} WHERE t.id = :id OR t.business_key = :key LIMIT 1"),
            {"id": transfer_id, "key": business_key},
        )
    ).first()
    return _transfer(row) if row else None


async def apply(session: AsyncSession, t: Transfer) -> tuple[Transfer, bool]:
    """Write the transfer once, in the caller's transaction. Returns (transfer, created).

    The same id or business key with the same content is a no-op returning the original; with other
    content it is a TransferConflict. Nothing is written when a rule refuses it.
    """
    check_shape(t)
    accounts = await lock(session, [t.debit, t.credit])
    existing = await _existing(session, t)
    if existing is not None:
        return existing, False
    debit, credit = accounts[t.debit], accounts[t.credit]
    takes = t.kind is TransferKind.HOLD or t.kind not in PENDING_KINDS
    if takes and not allows_negative(debit.kind) and debit.available - t.amount < 0:
        raise Overdraft(f"{t.debit} has {debit.available} tiyn available, {t.amount} needed")
    if t.kind in RELEASES and await _resolved(session, t.pending_id):  # type: ignore[arg-type]
        raise AlreadyResolved("the hold was already posted or voided")
    await session.execute(
        text(
            "INSERT INTO transfer (id, business_key, kind, layer, debit_account_id, credit_account_id, amount,"
            " pending_id, reverses_id) VALUES (:id, :key, :kind, :layer, :debit, :credit, :amount, :pending, :reverses)"
        ),
        {
            "id": t.id,
            "key": t.business_key,
            "kind": t.kind.value,
            "layer": t.layer,
            "debit": debit.id,
            "credit": credit.id,
            "amount": t.amount,
            "pending": t.pending_id,
            "reverses": t.reverses_id,
        },
    )
    await _move(session, t, debit.id, credit.id)
    return t, True


async def _existing(session: AsyncSession, t: Transfer) -> Transfer | None:
    known = await find(session, transfer_id=t.id, business_key=t.business_key)
    if known is None:
        return None
    if known.business_key == t.business_key and known.same_intent(t):
        return known
    raise TransferConflict(f"{t.business_key} was already used for another transfer")


async def _resolved(session: AsyncSession, hold_id: UUID) -> bool:
    found = await session.execute(
        text("SELECT 1 FROM transfer WHERE pending_id = :id AND kind IN ('post', 'void')"), {"id": hold_id}
    )
    return found.first() is not None


def _deltas(t: Transfer) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """(balance, pending_debits, pending_credits) changes of the debited and the credited account."""
    a = t.amount
    if t.kind is TransferKind.HOLD:
        return (0, a, 0), (0, 0, a)
    if t.kind in RELEASES:  # debit = the hold's credited account, credit = the hold's debited account
        return (0, 0, -a), (0, -a, 0)
    return (-a, 0, 0), (a, 0, 0)


async def _move(session: AsyncSession, t: Transfer, debit_id: int, credit_id: int) -> None:
    (db, dpd, dpc), (cb, cpd, cpc) = _deltas(t)
    versions = dict(
        (
            await session.execute(
                text(
                    "UPDATE account a SET balance = a.balance + v.balance, pending_debits = a.pending_debits + v.pd,"
                    " pending_credits = a.pending_credits + v.pc, version = a.version + 1"
                    " FROM (VALUES (CAST(:d AS BIGINT), CAST(:db AS BIGINT), CAST(:dpd AS BIGINT), CAST(:dpc AS BIGINT)),"
                    " (:c, :cb, :cpd, :cpc)) AS v(id, balance, pd, pc)"
                    " WHERE a.id = v.id RETURNING a.id, a.version"
                ),
                {"d": debit_id, "db": db, "dpd": dpd, "dpc": dpc, "c": credit_id, "cb": cb, "cpd": cpd, "cpc": cpc},
            )
        ).all()
    )
    await session.execute(
        text(
            "INSERT INTO entry (transfer_id, account_id, amount, layer, account_version)"
            " VALUES (:t, :d, :minus, :layer, :dv), (:t, :c, :plus, :layer, :cv)"
        ),
        {
            "t": t.id,
            "d": debit_id,
            "c": credit_id,
            "minus": -t.amount,
            "plus": t.amount,
            "layer": t.layer,
            "dv": versions[debit_id],
            "cv": versions[credit_id],
        },
    )


async def is_resolved(session: AsyncSession, hold_id: UUID) -> bool:
    return await _resolved(session, hold_id)
