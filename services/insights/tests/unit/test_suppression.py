"""Small-cell suppression: nothing below k is published, and no suppressed number comes back from one relation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from insights.domain.suppression import TOTAL, recoverable_cells, suppress

pytestmark = pytest.mark.unit

tables = st.dictionaries(
    st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.sampled_from(["x", "y", "z"])),
    st.integers(min_value=0, max_value=40),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(tables, st.integers(min_value=2, max_value=15))
def test_no_published_number_is_below_k_and_none_is_recoverable_from_a_total(counts, k) -> None:
    result = suppress(counts, k)
    assert all(v >= k for v in result.published())
    assert recoverable_cells(result) == []
    # what is published is the truth: every unsuppressed cell equals its count, every total the sum
    for (row, column), value in result.values.items():
        if value is None:
            continue
        if row != TOTAL and column != TOTAL:
            assert value == counts.get((row, column), 0)
        elif row != TOTAL:
            assert value == sum(counts.get((row, c), 0) for c in result.columns)
        elif column != TOTAL:
            assert value == sum(counts.get((r, column), 0) for r in result.rows)


@settings(max_examples=200, deadline=None)
@given(tables, st.integers(min_value=2, max_value=15))
def test_a_table_without_small_cells_is_published_whole(counts, k) -> None:
    result = suppress(counts, k)
    grid = [counts.get((r, c), 0) for r in result.rows for c in result.columns]
    if grid and min(grid) >= k:
        assert result.published() == list(result.values.values())
    else:
        assert None in result.values.values() or not grid


def test_one_small_cell_takes_the_next_smallest_of_its_row_and_column_with_it() -> None:
    counts = {("a", "x"): 3, ("a", "y"): 50, ("a", "z"): 20, ("b", "x"): 30, ("b", "y"): 40, ("b", "z"): 60}
    result = suppress(counts, 10)
    assert result.values[("a", "x")] is None  # primary
    assert result.values[("a", "z")] is None  # smallest other of row a
    assert result.values[("b", "x")] is None  # smallest other of column x
    assert result.values[("b", "z")] is None  # row b and column z would each have one hidden cell otherwise
    assert result.values[("a", "y")] == 50
    assert result.values[(TOTAL, TOTAL)] == 203
    assert recoverable_cells(result) == []


def test_recoverable_cells_finds_a_lone_suppressed_cell() -> None:
    result = suppress({("a", "x"): 30, ("a", "y"): 40}, 10)
    tampered = dict(result.values)
    tampered[("a", "x")] = None
    from insights.domain.suppression import SuppressedTable

    assert recoverable_cells(SuppressedTable(result.rows, result.columns, tampered, 10)) == [("a", "x"), ("a", "x")]
