"""The ledger in PostgreSQL: accounts locked in id order, immutable transfers with two entries each.

A transfer is written by one call of the database function ``ledger_transfer`` (migration 0003), which applies
the rules of ``payments.domain.ledger`` in one round trip. The database also enforces what must never break even
if this code is wrong: CHECK constraints for no overdraft, unique transfer ids and business keys, a hold resolved
once, append-only triggers, and a deferred constraint trigger that every transfer has exactly two entries netting
to zero (migration 0002).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from payments.domain.ledger import (
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


async def open_accounts(session: AsyncSession, kind: AccountKind, refs: list[object], region_code: str | None) -> None:
    """``open_account`` for many, in one statement (in the given order: the new accounts' ids follow it)."""
    if not refs:
        return
    await session.execute(
        text(
            "INSERT INTO account (code, kind, allow_negative, region_code)"
            " SELECT c, :kind, :neg, :region FROM unnest(CAST(:codes AS text[])) WITH ORDINALITY AS x(c, ord)"
            " ORDER BY x.ord ON CONFLICT (code) DO NOTHING"
        ),
        {
            "codes": [account_code(kind, ref) for ref in refs],
            "kind": kind.value,
            "neg": allows_negative(kind),
            "region": region_code,
        },
    )


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


_LOCK = text(
    "SELECT id, code, kind, balance, pending_debits, pending_credits, version FROM account"
    " WHERE code = ANY(:codes) ORDER BY id FOR UPDATE"
)


async def lock(session: AsyncSession, codes: list[str], *, missing_ok: bool = False) -> dict[str, AccountState]:
    """Lock the accounts in ascending id order (no deadlock between transfers sharing accounts).

    A missing account is a LedgerError, or left out of the result with ``missing_ok``."""
    rows = await session.execute(_LOCK, {"codes": sorted(set(codes))})
    found = {row.code: _state(row) for row in rows}
    missing = set(codes) - found.keys()
    if missing and not missing_ok:
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


_APPLY = text(
    "SELECT outcome, transfer_id, transfer_key, transfer_kind, debit_code, credit_code, transfer_amount, hold_id,"
    " original_id, debit_available"
    " FROM ledger_transfer(:id, :key, :kind, :debit, :credit, :amount, :pending, :reverses)"
)


async def apply(session: AsyncSession, t: Transfer) -> tuple[Transfer, bool]:
    """Write the transfer once, in the caller's transaction. Returns (transfer, created).

    One round trip: the database function ``ledger_transfer`` (migration 0003) locks both accounts in id order,
    looks for the same id or business key, checks the overdraft and the hold's single release, and only then
    inserts the transfer, moves both balances and writes the two entries. The same id or business key with the
    same content is a no-op returning the original; with other content it is a TransferConflict. Nothing is
    written when a rule refuses it (and the caller's transaction stays usable).
    """
    check_shape(t)
    row = (
        await session.execute(
            _APPLY,
            {
                "id": t.id,
                "key": t.business_key,
                "kind": t.kind.value,
                "debit": t.debit,
                "credit": t.credit,
                "amount": t.amount,
                "pending": t.pending_id,
                "reverses": t.reverses_id,
            },
        )
    ).one()
    if row.outcome == "created":
        return t, True
    if row.outcome == "exists":
        known = Transfer(
            id=row.transfer_id,
            business_key=row.transfer_key,
            kind=TransferKind(row.transfer_kind),
            debit=row.debit_code,
            credit=row.credit_code,
            amount=row.transfer_amount,
            pending_id=row.hold_id,
            reverses_id=row.original_id,
        )
        if known.business_key == t.business_key and known.same_intent(t):
            return known, False
        raise TransferConflict(f"{t.business_key} was already used for another transfer")
    if row.outcome == "overdraft":
        raise Overdraft(f"{t.debit} has {row.debit_available} tiyn available, {t.amount} needed")
    if row.outcome == "resolved":
        raise AlreadyResolved("the hold was already posted or voided")
    missing = [code for code, found in ((t.debit, row.debit_code), (t.credit, row.credit_code)) if found is None]
    raise LedgerError(f"no such account: {', '.join(sorted(missing))}")


_APPLY_MANY = text(
    "SELECT ord, outcome, transfer_id, transfer_key, transfer_kind, debit_code, credit_code, transfer_amount,"
    " hold_id, original_id, debit_available"
    " FROM ledger_transfer_many(CAST(:ids AS uuid[]), CAST(:keys AS text[]), CAST(:kinds AS text[]),"
    " CAST(:debits AS text[]), CAST(:credits AS text[]), CAST(:amounts AS bigint[]), CAST(:pendings AS uuid[]),"
    " CAST(:reverses AS uuid[]))"
)


async def apply_many(session: AsyncSession, transfers: list[Transfer]) -> list[tuple[Transfer, bool]]:
    """Write a batch of transfers whole, in the caller's transaction, in one round trip; per transfer, as ``apply``
    returns it: (the transfer or the original it repeats, created).

    The database function ``ledger_transfer_many`` (migration 0007) locks the union of the batch's accounts in
    ascending id order before judging any transfer, judges each by ``apply``'s rules in the batch's order (counting
    the earlier transfers' effects on its accounts), and writes all of them or, when one is refused, none: the
    first refusal is raised as ``apply`` raises it, and the caller's transaction stays usable.
    """
    if not transfers:
        return []
    for t in transfers:
        check_shape(t)
    rows = (
        await session.execute(
            _APPLY_MANY,
            {
                "ids": [t.id for t in transfers],
                "keys": [t.business_key for t in transfers],
                "kinds": [t.kind.value for t in transfers],
                "debits": [t.debit for t in transfers],
                "credits": [t.credit for t in transfers],
                "amounts": [t.amount for t in transfers],
                "pendings": [t.pending_id for t in transfers],
                "reverses": [t.reverses_id for t in transfers],
            },
        )
    ).all()
    results: list[tuple[Transfer, bool]] = []
    for t, row in zip(transfers, sorted(rows, key=lambda r: r.ord), strict=True):
        if row.outcome == "created":
            results.append((t, True))
        elif row.outcome == "exists":
            known = Transfer(
                id=row.transfer_id,
                business_key=row.transfer_key,
                kind=TransferKind(row.transfer_kind),
                debit=row.debit_code,
                credit=row.credit_code,
                amount=row.transfer_amount,
                pending_id=row.hold_id,
                reverses_id=row.original_id,
            )
            results.append((known, False))
        elif row.outcome == "conflict":
            raise TransferConflict(f"{t.business_key} was already used for another transfer")
        elif row.outcome == "overdraft":
            raise Overdraft(f"{t.debit} has {row.debit_available} tiyn available, {t.amount} needed")
        elif row.outcome == "resolved":
            raise AlreadyResolved("the hold was already posted or voided")
        else:
            missing = [code for code, found in ((t.debit, row.debit_code), (t.credit, row.credit_code)) if not found]
            raise LedgerError(f"no such account: {', '.join(sorted(missing))}")
    return results
