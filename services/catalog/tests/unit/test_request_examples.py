"""Every request body documents an example, and the example is a body the API accepts."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel

from catalog.entrypoints import review_schemas, schemas

pytestmark = pytest.mark.unit

BODIES = [
    schemas.ProviderIn,
    schemas.DecisionIn,
    schemas.ProgrammeFields,
    schemas.ProgrammeChangeIn,
    schemas.EnrolmentIn,
    schemas.EndIn,
    schemas.ChangeClubIn,
    schemas.StaffIn,
    schemas.FacilityIn,
    schemas.AttestationIn,
    schemas.ComplaintIn,
    schemas.ComplaintResolutionIn,
    review_schemas.ReviewIn,
    review_schemas.ReviewEditIn,
    review_schemas.ReviewHideIn,
    review_schemas.ReviewAnswerIn,
]


@pytest.mark.parametrize("model", BODIES, ids=lambda m: m.__name__)
def test_the_example_validates(model: type[BaseModel]) -> None:
    [example] = model.model_json_schema()["examples"]
    assert model.model_validate(example).model_dump(exclude_unset=True).keys() == example.keys()


def test_every_request_body_of_the_api_is_listed() -> None:
    from catalog.entrypoints.api import ROUTERS

    bodies = {
        param.field_info.annotation
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for param in route.dependant.body_params
    }
    assert len(bodies) == len(BODIES)
    assert bodies == set(BODIES)
