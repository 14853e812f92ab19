"""Small-cell suppression of the open data: k-anonymity with complementary suppression.

A table of counts is published with its row totals, column totals and grand total. Every number is a cell of the
augmented table (the totals are its last row and column), and each row and each column of the augmented table is a
linear relation (the cells sum to the total). A count below ``k`` (zero included) is suppressed (primary
suppression). A relation with exactly one suppressed number would give it back by subtraction, so the smallest other
published number of that relation is suppressed too (complementary suppression), and this repeats until no row and
no column has exactly one suppressed number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

TOTAL = "_total"


@dataclass(frozen=True)
class SuppressedTable:
    rows: list[str]
    columns: list[str]
    values: dict[tuple[str, str], int | None]  # (row, column) -> count, None when suppressed; TOTAL for margins
    k: int

    def published(self) -> list[int]:
        return [v for v in self.values.values() if v is not None]


def suppress(
    counts: Mapping[tuple[str, str], int], k: int, rows: list[str] | None = None, columns: list[str] | None = None
) -> SuppressedTable:
    if k < 1:
        raise ValueError("k must be at least 1")
    row_names = sorted(set(rows or []) | {r for r, _ in counts})
    column_names = sorted(set(columns or []) | {c for _, c in counts})
    full: dict[tuple[str, str], int] = {(r, c): counts.get((r, c), 0) for r in row_names for c in column_names}
    for r in row_names:
        full[(r, TOTAL)] = sum(full[(r, c)] for c in column_names)
    for c in column_names:
        full[(TOTAL, c)] = sum(full[(r, c)] for r in row_names)
    full[(TOTAL, TOTAL)] = sum(full[(r, TOTAL)] for r in row_names)
    suppressed = {cell for cell, value in full.items() if value < k}
    all_rows, all_columns = [*row_names, TOTAL], [*column_names, TOTAL]
    groups = [[(r, c) for c in all_columns] for r in all_rows] + [[(r, c) for r in all_rows] for c in all_columns]
    changed = True
    while changed:
        changed = False
        for group in groups:
            hidden = [cell for cell in group if cell in suppressed]
            if len(hidden) != 1:
                continue
            candidates = sorted((cell for cell in group if cell not in suppressed), key=lambda cell: (full[cell], cell))
            if candidates:  # a group of one cell has nothing to recover it from
                suppressed.add(candidates[0])
                changed = True
    values = {cell: (None if cell in suppressed else value) for cell, value in full.items()}
    return SuppressedTable(row_names, column_names, values, k)


def recoverable_cells(table: SuppressedTable) -> list[tuple[str, str]]:
    """Suppressed cells that a single row or column relation gives back (what complementary suppression prevents)."""
    all_rows, all_columns = [*table.rows, TOTAL], [*table.columns, TOTAL]
    groups = [[(r, c) for c in all_columns] for r in all_rows] + [[(r, c) for r in all_rows] for c in all_columns]
    found = []
    for group in groups:
        hidden = [cell for cell in group if table.values[cell] is None]
        if len(hidden) == 1 and len(group) > 1:
            found.append(hidden[0])
    return found
