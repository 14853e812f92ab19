"""The ledger's invariants as SQL (docs/architecture.md, Invariants: I2, I5-I7): each query returns the rows that break one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Finding:
    check: str
    subject: str
    detail: str


CHECKS: dict[str, tuple[str, str]] = {
    "ledger_sums_to_zero": (
        "SELECT layer AS subject, sum(amount) AS value FROM entry GROUP BY layer HAVING sum(amount) <> 0",
        "the {subject} entries of the whole ledger sum to {value}, not 0",
    ),
    "transfer_has_two_entries": (
        "SELECT t.id::text AS subject, count(e.id) AS n, coalesce(sum(e.amount), 0) AS value FROM transfer t"
        " LEFT JOIN entry e ON e.transfer_id = t.id GROUP BY t.id HAVING count(e.id) <> 2 OR sum(e.amount) <> 0",
        "transfer {subject} has {n} entries summing to {value}",
    ),
    "balance_equals_entries": (
        "SELECT a.code AS subject, a.balance, a.pending_credits - a.pending_debits AS pending, a.version,"
        " coalesce(sum(e.amount) FILTER (WHERE e.layer = 'posted'), 0) AS posted_sum,"
        " coalesce(sum(e.amount) FILTER (WHERE e.layer = 'pending'), 0) AS pending_sum, count(e.id) AS n"
        " FROM account a LEFT JOIN entry e ON e.account_id = a.id GROUP BY a.id"
        " HAVING a.balance <> coalesce(sum(e.amount) FILTER (WHERE e.layer = 'posted'), 0)"
        " OR a.pending_credits - a.pending_debits <> coalesce(sum(e.amount) FILTER (WHERE e.layer = 'pending'), 0)"
        " OR a.version <> count(e.id)",
        "account {subject}: balance {balance} / pending {pending} / version {version}, but its entries give"
        " {posted_sum} / {pending_sum} / {n}",
    ),
    "pending_equals_open_holds": (
        "WITH open_hold AS (SELECT h.* FROM transfer h WHERE h.kind = 'hold' AND NOT EXISTS"
        " (SELECT 1 FROM transfer r WHERE r.pending_id = h.id AND r.kind IN ('post', 'void')))"
        " SELECT a.code AS subject, a.pending_debits, a.pending_credits,"
        " coalesce((SELECT sum(amount) FROM open_hold WHERE debit_account_id = a.id), 0) AS held_out,"
        " coalesce((SELECT sum(amount) FROM open_hold WHERE credit_account_id = a.id), 0) AS held_in FROM account a"
        " WHERE a.pending_debits <> coalesce((SELECT sum(amount) FROM open_hold WHERE debit_account_id = a.id), 0)"
        " OR a.pending_credits <> coalesce((SELECT sum(amount) FROM open_hold WHERE credit_account_id = a.id), 0)",
        "account {subject}: pending {pending_debits} out / {pending_credits} in, open holds {held_out} / {held_in}",
    ),
    "no_account_below_zero": (
        "SELECT code AS subject, balance - pending_debits AS value FROM account"
        " WHERE NOT allow_negative AND balance - pending_debits < 0",
        "account {subject} is overdrawn: {value} tiyn available",
    ),
    "accrual_matches_its_transfer": (
        "SELECT a.accrual_id::text AS subject, a.amount_tiyn, coalesce(t.amount, 0) AS transferred FROM accrual a"
        " LEFT JOIN transfer t ON t.id = a.transfer_id WHERE a.amount_tiyn <> coalesce(t.amount, 0)",
        "accrual {subject} of {amount_tiyn} tiyn was posted as {transferred}",
    ),
    "paid_item_matches_its_payout": (
        "SELECT i.item_id::text AS subject, i.amount_tiyn, t.amount AS transferred FROM batch_item i"
        " JOIN transfer t ON t.id = i.payout_transfer_id WHERE t.amount <> i.amount_tiyn",
        "batch item {subject} of {amount_tiyn} tiyn was paid out as {transferred}",
    ),
}


async def ledger_findings(session: AsyncSession) -> list[Finding]:
    """Every broken invariant of the ledger (I2, I5-I7 and the records' agreement with it); empty when sound."""
    found: list[Finding] = []
    for check, (sql, message) in CHECKS.items():
        for row in await session.execute(text(sql)):
            values: dict[str, Any] = dict(row._mapping)
            found.append(Finding(check, str(values["subject"]), message.format(**values)))
    return found
