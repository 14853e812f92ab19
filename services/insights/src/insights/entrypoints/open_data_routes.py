"""Open data: public, unauthenticated aggregates with small cells suppressed, as JSON or CSV."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response

from insights.entrypoints.dependencies import Deps
from insights.service_layer import open_data
from insights.service_layer.open_data import Catalogue, OpenTable
from qosym_contracts.types import RegionCode

router = APIRouter(prefix="/v1/open", tags=["open data"])


@router.get("", summary="The open datasets, the regions, k and the freshness")
async def catalogue(deps: Deps) -> Catalogue:
    return await open_data.catalogue(deps)


@router.get(
    "/regions/{region_code}/{dataset}",
    summary="One dataset of one region (district rows), cells below k suppressed with their complements",
    response_model=OpenTable,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def dataset(
    region_code: RegionCode,
    dataset: str,
    deps: Deps,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
    round_id: Annotated[UUID | None, Query()] = None,
) -> OpenTable | Response:
    data = await open_data.table(deps, region_code, dataset, round_id)
    if format == "csv":
        return Response(
            open_data.as_csv(data),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{region_code}-{dataset}.csv"'},
        )
    return data
