"""A payment order: what the treasury is asked to pay for one batch (one credit transfer per provider)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from qosym_chassis.identifiers import compact_bic, compact_iban, valid_bic, valid_iban


def iban_is_valid(iban: str | None) -> bool:
    """ISO 13616 (``qosym_chassis.identifiers``): the country's format and length (a KZ IBAN is 20 characters) and
    the mod-97 check digits, written in its compact form (upper case, no spaces) as the payment order carries it."""
    return iban is not None and iban != "" and compact_iban(iban) == iban and valid_iban(iban)


def bic_is_valid(bic: str | None) -> bool:
    """ISO 9362 (``qosym_chassis.identifiers``): 8 or 11 characters, in its compact form (upper case, no spaces)."""
    return bic is not None and bic != "" and compact_bic(bic) == bic and valid_bic(bic)


@dataclass(frozen=True)
class Party:
    name: str
    iban: str
    bic: str | None
    bin: str | None = None


@dataclass(frozen=True)
class CreditTransfer:
    end_to_end_id: str  # ≤ 35 characters; the treasury's statement quotes it back
    amount_tiyn: int
    creditor: Party
    remittance: str  # ≤ 140 characters, no personal data


@dataclass(frozen=True)
class PaymentOrder:
    message_id: str  # ≤ 35 characters
    created_at: datetime
    execution_date: date
    initiator: str
    debtor: Party
    transfers: tuple[CreditTransfer, ...]
    currency: str = "KZT"

    @property
    def total_tiyn(self) -> int:
        return sum(t.amount_tiyn for t in self.transfers)


def end_to_end_id(item_id: UUID) -> str:
    return item_id.hex  # 32 characters


def message_id(batch_id: UUID) -> str:
    return f"QOSYM-{batch_id.hex[:24]}"
