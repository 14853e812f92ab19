"""The treasury's statement of executed transfers, imported as CSV.

One line per executed credit transfer, with a header line::

    end_to_end_id,amount,currency,reference,booked_at
    3f0c…e1,9333.34,KZT,TRS-2026-12-000123,2026-12-02T10:15:00+05:00

``end_to_end_id`` is the one our pain.001 order carried, ``amount`` is in tenge with at most two decimals,
``booked_at`` an ISO 8601 time with its offset. Every problem is reported with its line number.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from payments.domain.accrual import parse_tenge

REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./-]{0,99}")  # as qosym_contracts.payments
COLUMNS = ("end_to_end_id", "amount", "currency", "reference", "booked_at")


@dataclass(frozen=True)
class StatementLine:
    line: int
    end_to_end_id: str
    amount_tiyn: int
    reference: str
    booked_at: datetime


class InvalidStatement(ValueError):
    def __init__(self, problems: list[tuple[int, str]]) -> None:
        super().__init__("; ".join(f"line {n}: {p}" for n, p in problems))
        self.problems = problems


def parse_statement(text: str) -> list[StatementLine]:
    reader = csv.DictReader(io.StringIO(text))
    if tuple(name.strip() for name in reader.fieldnames or ()) != COLUMNS:
        raise InvalidStatement([(1, f"the header must be {','.join(COLUMNS)}")])
    lines: list[StatementLine] = []
    problems: list[tuple[int, str]] = []
    for row in reader:
        n = reader.line_num
        try:
            lines.append(_line(n, row))
        except ValueError as exc:
            problems.append((n, str(exc)))
    if problems:
        raise InvalidStatement(problems)
    if not lines:
        raise InvalidStatement([(2, "the statement has no lines")])
    seen: set[str] = set()
    for line in lines:
        if line.end_to_end_id in seen:
            problems.append((line.line, "the same end_to_end_id twice"))
        seen.add(line.end_to_end_id)
    if problems:
        raise InvalidStatement(problems)
    return lines


def _line(n: int, row: dict[str, str | None]) -> StatementLine:
    values = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
    if None in row:
        raise ValueError("too many columns")
    end_to_end_id = values.get("end_to_end_id", "")
    if not end_to_end_id or len(end_to_end_id) > 35:
        raise ValueError("end_to_end_id must be 1 to 35 characters")
    if values.get("currency") != "KZT":
        raise ValueError("currency must be KZT")
    amount = parse_tenge(values.get("amount", ""))
    if amount <= 0:
        raise ValueError("amount must be positive")
    reference = values.get("reference", "")
    if not reference or len(reference) > 100:
        raise ValueError("reference must be 1 to 100 characters")
    if not REFERENCE.fullmatch(reference):
        raise ValueError("reference may hold only letters, digits and - _ / . (it is published in ProviderPaid)")
    try:
        booked_at = datetime.fromisoformat(values.get("booked_at", ""))
    except ValueError:
        raise ValueError("booked_at must be an ISO 8601 time with its offset") from None
    if booked_at.tzinfo is None:
        raise ValueError("booked_at must carry its UTC offset")
    return StatementLine(n, end_to_end_id, amount, reference, booked_at.astimezone(UTC))
