"""Every request body documents an example, and the example is a body the API accepts."""

import pytest
from pydantic import BaseModel

from attendance.domain.rules import AttendanceRules
from attendance.entrypoints import schemas

pytestmark = pytest.mark.unit

BODIES: list[type[BaseModel]] = [
    schemas.InspectionIn,
    schemas.MarksIn,
    schemas.SubmitIn,
    schemas.LatePermitIn,
    schemas.ConfirmIn,
    schemas.DisputeIn,
    schemas.ResolveIn,
    schemas.ReviewIn,
    AttendanceRules,
]


@pytest.mark.parametrize("model", BODIES, ids=lambda m: m.__name__)
def test_each_request_body_has_an_example_that_validates(model: type[BaseModel]) -> None:
    examples = model.model_json_schema()["examples"]
    assert examples
    for example in examples:
        assert model.model_validate(example).model_dump(exclude_unset=True).keys() == example.keys()
