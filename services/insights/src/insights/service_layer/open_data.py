"""The public open data: aggregates with small cells suppressed (k-anonymity and complementary suppression)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from insights.adapters import insights_queries
from insights.domain import figures as f
from insights.domain.suppression import TOTAL, suppress
from insights.service_layer.dependencies import Dependencies
from insights.service_layer.figures import facts_of
from qosym_chassis.errors import NotFound


@dataclass(frozen=True)
class Cell:
    row: str  # "_total" for a column total
    column: str  # "_total" for a row total
    value: int | None  # None: suppressed
    suppressed: bool


@dataclass(frozen=True)
class OpenTable:
    dataset: str
    region_code: str
    row_dimension: str
    column_dimension: str
    k: int
    freshness: datetime | None
    round_id: UUID | None
    cells: list[Cell]


@dataclass(frozen=True)
class Catalogue:
    k: int
    datasets: list[str]
    regions: list[str]
    freshness: datetime | None


async def catalogue(deps: Dependencies) -> Catalogue:
    async with deps.sessions() as session:
        regions = await insights_queries.known_regions(session)
        fresh = await insights_queries.freshness_of(session, "all")
    return Catalogue(deps.open_data_k, sorted(f.OPEN_DATASETS), regions, fresh)


async def table(deps: Dependencies, region_code: str, dataset: str, round_id: UUID | None) -> OpenTable:
    if dataset not in f.OPEN_DATASETS:
        raise NotFound("no such dataset")
    facts = await facts_of(deps, region_code)
    row_dimension, column_dimension = f.OPEN_DATASETS[dataset]
    counts = f.open_table(facts, dataset, f.Filter(round_id, None))
    rows = f.known_districts(facts, (r for r, _ in counts))
    columns = (facts.region.directions if facts.region and column_dimension == "direction" else []) or None
    result = suppress(counts, deps.open_data_k, rows=rows, columns=columns)
    cells = [
        Cell(r, c, result.values[(r, c)], result.values[(r, c)] is None)
        for r in [*result.rows, TOTAL]
        for c in [*result.columns, TOTAL]
    ]
    return OpenTable(
        dataset, region_code, row_dimension, column_dimension, deps.open_data_k, facts.freshness, round_id, cells
    )


def as_csv(data: OpenTable) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "# dataset",
            data.dataset,
            "region",
            data.region_code,
            "k",
            data.k,
            "freshness",
            data.freshness.isoformat() if data.freshness else "",
        ]
    )
    writer.writerow([data.row_dimension, data.column_dimension, "value", "suppressed"])
    for cell in data.cells:
        writer.writerow([cell.row, cell.column, "" if cell.value is None else cell.value, str(cell.suppressed).lower()])
    return out.getvalue()
