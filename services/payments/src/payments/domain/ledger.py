"""The double-entry ledger's rules (docs/architecture.md, Invariants: I1-I8), independent of storage.

Accounts are credit-normal: balance = credits − debits of the *posted* layer. A hold is a *pending*
transfer: it reserves money on the debited account (``pending_debits``) for the credited one
(``pending_credits``) without moving it. A hold resolves exactly once, by a release transfer of the whole
held amount (``post`` or ``void``, pending layer, the hold's accounts reversed); a post is followed in the
same transaction by an ``accrual`` (posted layer) of at most the held amount. Every transfer is immutable,
has a positive integer amount and exactly two entries that net to zero. Round budgets, vouchers and
provider payables may never be overdrawn: ``balance − pending_debits ≥ 0``. Corrections are reversing
transfers, never edits.

``LedgerModel`` is the executable specification: the PostgreSQL ledger (adapters/ledger.py) is tested to
end in the same balances for the same operations (tests/component/test_ledger_machine.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from uuid import UUID


class AccountKind(StrEnum):
    TREASURY = "treasury"
    ROUND_BUDGET = "round_budget"
    VOUCHER = "voucher"
    PROVIDER_PAYABLE = "provider_payable"
    SETTLEMENT = "settlement"


SOURCES = frozenset({AccountKind.TREASURY, AccountKind.SETTLEMENT})  # external: may go negative


class TransferKind(StrEnum):
    APPROPRIATION = "appropriation"  # treasury → round budget
    FUNDING = "funding"  # round budget → voucher
    HOLD = "hold"  # voucher ⇢ provider payable (pending)
    POST = "post"  # releases a hold that is being posted (pending layer)
    VOID = "void"  # releases a hold that is given up (pending layer)
    ACCRUAL = "accrual"  # voucher → provider payable, ≤ the hold it posts
    PAYOUT = "payout"  # provider payable → settlement, when the treasury confirms
    RETURN = "return"  # voucher → round budget, the unused balance of a finished voucher
    REVERSAL = "reversal"  # the mirror of a posted transfer: the only correction


PENDING_KINDS = frozenset({TransferKind.HOLD, TransferKind.POST, TransferKind.VOID})
RELEASES = frozenset({TransferKind.POST, TransferKind.VOID})


def allows_negative(kind: AccountKind) -> bool:
    return kind in SOURCES


def account_code(kind: AccountKind, ref: object) -> str:
    """treasury:<region>, round_budget:<round>, voucher:<voucher>, provider_payable:<provider>, settlement:<region>."""
    return f"{kind.value}:{ref}"


class LedgerError(Exception):
    """A transfer the ledger refuses; nothing was written."""


class Overdraft(LedgerError):
    pass


class AlreadyResolved(LedgerError):
    pass


class TransferConflict(LedgerError):
    """The same transfer id or business key was used before with different content."""


@dataclass(frozen=True)
class Transfer:
    id: UUID
    business_key: str
    kind: TransferKind
    debit: str  # account codes
    credit: str
    amount: int
    pending_id: UUID | None = None
    reverses_id: UUID | None = None

    @property
    def layer(self) -> str:
        return "pending" if self.kind in PENDING_KINDS else "posted"

    def same_intent(self, other: Transfer) -> bool:
        return (self.kind, self.debit, self.credit, self.amount, self.pending_id, self.reverses_id) == (
            other.kind,
            other.debit,
            other.credit,
            other.amount,
            other.pending_id,
            other.reverses_id,
        )


def check_shape(t: Transfer) -> None:
    if isinstance(t.amount, bool) or not isinstance(t.amount, int) or t.amount <= 0:
        raise LedgerError("a transfer's amount is a positive integer of tiyn")
    if t.debit == t.credit:
        raise LedgerError("a transfer moves money between two different accounts")
    if (t.kind in RELEASES or t.kind is TransferKind.ACCRUAL) != (t.pending_id is not None):
        raise LedgerError("post, void and accrual transfers (only) name the hold they resolve")
    if (t.kind is TransferKind.REVERSAL) != (t.reverses_id is not None):
        raise LedgerError("a reversal (only) names the transfer it reverses")


@dataclass
class Account:
    code: str
    kind: AccountKind
    balance: int = 0
    pending_debits: int = 0
    pending_credits: int = 0

    @property
    def available(self) -> int:
        return self.balance - self.pending_debits

    @property
    def allow_negative(self) -> bool:
        return allows_negative(self.kind)


@dataclass(frozen=True)
class Entry:
    transfer_id: UUID
    account: str
    amount: int
    layer: str


def entries_of(t: Transfer) -> tuple[Entry, Entry]:
    return Entry(t.id, t.debit, -t.amount, t.layer), Entry(t.id, t.credit, t.amount, t.layer)


@dataclass
class LedgerModel:
    """An in-memory ledger with the same rules as the database: the specification and the test oracle."""

    accounts: dict[str, Account] = field(default_factory=dict)
    transfers: dict[UUID, Transfer] = field(default_factory=dict)
    by_key: dict[str, UUID] = field(default_factory=dict)
    entries: list[Entry] = field(default_factory=list)
    resolved: dict[UUID, UUID] = field(default_factory=dict)  # hold id → release id
    accrued: dict[UUID, UUID] = field(default_factory=dict)  # hold id → accrual id
    reversed: set[UUID] = field(default_factory=set)

    def open(self, code: str, kind: AccountKind) -> Account:
        return self.accounts.setdefault(code, Account(code, kind))

    def apply(self, t: Transfer) -> Transfer:
        """Apply once; the same id or key with the same content returns the original, other content is refused."""
        check_shape(t)
        known_id = t.id if t.id in self.transfers else self.by_key.get(t.business_key)
        if known_id is not None:
            known = self.transfers[known_id]
            if known.business_key == t.business_key and known.same_intent(t):
                return known
            raise TransferConflict(f"{t.business_key} was already used for another transfer")
        debit, credit = self.accounts[t.debit], self.accounts[t.credit]
        self._check_links(t)
        takes = t.kind is TransferKind.HOLD or t.layer == "posted"
        if takes and not debit.allow_negative and debit.available - t.amount < 0:
            raise Overdraft(f"{t.debit} has {debit.available} available, {t.amount} needed")
        if t.kind is TransferKind.HOLD:
            debit.pending_debits += t.amount
            credit.pending_credits += t.amount
        elif t.kind in RELEASES:
            debit.pending_credits -= t.amount
            credit.pending_debits -= t.amount
            self.resolved[t.pending_id] = t.id  # type: ignore[index]  # check_shape: a release names its hold
        else:
            debit.balance -= t.amount
            credit.balance += t.amount
            if t.kind is TransferKind.ACCRUAL:
                self.accrued[t.pending_id] = t.id  # type: ignore[index]  # check_shape: an accrual names its hold
            if t.kind is TransferKind.REVERSAL:
                self.reversed.add(t.reverses_id)  # type: ignore[arg-type]  # check_shape: a reversal names its original
        self.transfers[t.id] = t
        self.by_key[t.business_key] = t.id
        self.entries.extend(entries_of(t))
        return t

    def _check_links(self, t: Transfer) -> None:
        if t.kind in RELEASES or t.kind is TransferKind.ACCRUAL:
            hold = self.transfers.get(t.pending_id)  # type: ignore[arg-type]  # check_shape: it names its hold
            if hold is None or hold.kind is not TransferKind.HOLD:
                raise LedgerError("it does not name a hold")
            if t.kind in RELEASES:
                if t.pending_id in self.resolved:
                    raise AlreadyResolved("the hold was already posted or voided")
                if (t.debit, t.credit, t.amount) != (hold.credit, hold.debit, hold.amount):
                    raise LedgerError("a release returns exactly the held amount between the hold's accounts")
            else:
                release = self.transfers.get(self.resolved.get(t.pending_id))  # type: ignore[arg-type]  # None finds None
                if release is None or release.kind is not TransferKind.POST or t.pending_id in self.accrued:
                    raise AlreadyResolved("an accrual follows the post of its hold, once")
                if (t.debit, t.credit) != (hold.debit, hold.credit) or t.amount > hold.amount:
                    raise LedgerError("an accrual pays at most the held amount between the hold's accounts")
        if t.kind is TransferKind.REVERSAL:
            original = self.transfers.get(t.reverses_id)  # type: ignore[arg-type]  # check_shape: it names its original
            if original is None or original.layer != "posted" or original.kind is TransferKind.REVERSAL:
                raise LedgerError("only a posted transfer can be reversed")
            if t.reverses_id in self.reversed:
                raise AlreadyResolved("the transfer was already reversed")
            if (t.debit, t.credit, t.amount) != (original.credit, original.debit, original.amount):
                raise LedgerError("a reversal mirrors the original transfer")

    def open_holds(self) -> list[Transfer]:
        return [t for t in self.transfers.values() if t.kind is TransferKind.HOLD and t.id not in self.resolved]

    def violations(self) -> list[str]:
        """Every broken invariant (I2, I5-I8); empty when the ledger is sound."""
        found: list[str] = []
        for layer in ("posted", "pending"):
            total = sum(e.amount for e in self.entries if e.layer == layer)
            if total:
                found.append(f"{layer} entries sum to {total}, not 0")
        for code, account in self.accounts.items():
            posted = sum(e.amount for e in self.entries if e.account == code and e.layer == "posted")
            pending = sum(e.amount for e in self.entries if e.account == code and e.layer == "pending")
            if posted != account.balance or pending != account.pending_credits - account.pending_debits:
                found.append(f"{code}: balance differs from its entries")
            held_out = sum(h.amount for h in self.open_holds() if h.debit == code)
            held_in = sum(h.amount for h in self.open_holds() if h.credit == code)
            if (held_out, held_in) != (account.pending_debits, account.pending_credits):
                found.append(f"{code}: pending amounts differ from its open holds")
            if not account.allow_negative and account.available < 0:
                found.append(f"{code}: overdrawn ({account.available})")
        for hold_id, accrual_id in self.accrued.items():
            if self.transfers[accrual_id].amount > self.transfers[hold_id].amount:
                found.append(f"accrual {accrual_id} exceeds its hold")
        return found
