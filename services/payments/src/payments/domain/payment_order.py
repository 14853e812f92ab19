"""A payment order: what the treasury is asked to pay for one batch (one credit transfer per provider)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$")
BIC = re.compile(r"^[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")


def iban_is_valid(iban: str | None) -> bool:
    """ISO 13616: the format and the mod-97 check digits (a KZ IBAN is 20 characters)."""
    if not iban or not IBAN.match(iban) or (iban.startswith("KZ") and len(iban) != 20):
        return False
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(digits) % 97 == 1


def bic_is_valid(bic: str | None) -> bool:
    return bool(bic and BIC.match(bic))


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
