"""Region files are data: every rule a national rollout team relies on is checked before anything changes."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from allocation.domain.region import RegionConfig
from allocation.domain.rounds import RoundDraft
from allocation.entrypoints.schemas import ApplicationIn, CloseIn, RevokeIn, SimulationIn
from allocation.service_layer.regions import region_configured

pytestmark = pytest.mark.unit
REGIONS = Path(__file__).resolve().parents[4] / "deploy" / "regions"


def astana() -> dict:
    return yaml.safe_load((REGIONS / "astana.yaml").read_text())


@pytest.mark.parametrize("path", sorted(REGIONS.glob("*.yaml")), ids=lambda p: p.stem)
def test_the_shipped_region_files_are_valid(path: Path) -> None:
    config = RegionConfig.model_validate(yaml.safe_load(path.read_text()))
    assert config.code == path.stem


def test_astana_has_six_districts_and_seven_consultation_points() -> None:
    config = RegionConfig.model_validate(astana())
    assert len(config.districts) == 6
    assert len(config.consultation_points) == 7
    assert config.voucher.monthly_value["sports"] == 1_500_000


def broken(change) -> dict:
    document = copy.deepcopy(astana())
    change(document)
    return document


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda d: d.update(timezone="Mars/Olympus"), "unknown time zone"),
        (lambda d: d["districts"].append(d["districts"][0]), "district codes must be unique"),
        (lambda d: d["consultation_points"][0].update(district="atlantis"), "unknown district"),
        (lambda d: d["voucher"]["monthly_value"].pop("sports"), "one value per direction"),
        (lambda d: d["voucher"]["monthly_value"].update(sports=15000.5), "valid integer"),
        (lambda d: d["voucher"]["monthly_value"].update(sports="1500000"), "valid integer"),
        (lambda d: d.update(budget_tiyn=-1), "greater than 0"),
        (lambda d: d["quotas"].update(sports=0.9), "add up to 1"),
        (lambda d: d.update(child_age={"min": 18, "max": 4}), "min must not exceed max"),
        (lambda d: d.update(unexpected=True), "Extra inputs are not permitted"),
        (lambda d: d.update(code="Astana City"), "should match pattern"),
    ],
)
def test_invalid_region_files_are_refused_with_a_reason(change, needle: str) -> None:
    with pytest.raises(ValidationError) as error:
        RegionConfig.model_validate(broken(change))
    assert needle in str(error.value)


def test_the_documented_request_examples_are_valid_requests() -> None:
    for model in (RegionConfig, RoundDraft, ApplicationIn, CloseIn, RevokeIn, SimulationIn):
        examples = model.model_json_schema()["examples"]
        assert examples, model
        for example in examples:
            model.model_validate(example)


def test_a_district_may_give_its_child_population_and_the_event_carries_it() -> None:
    config = RegionConfig.model_validate(astana())
    shipped = {d.code: d.child_population for d in config.districts}
    assert all(isinstance(n, int) and n > 0 for n in shipped.values())  # the demo files give one (illustrative)
    event = region_configured(config, revision=3)
    assert {d.code: d.child_population for d in event.districts} == shipped
    without = copy.deepcopy(astana())
    for district in without["districts"]:
        del district["child_population"]
    assert {d.child_population for d in region_configured(RegionConfig.model_validate(without), 1).districts} == {None}
    negative = copy.deepcopy(astana())
    negative["districts"][0]["child_population"] = -1
    with pytest.raises(ValidationError):
        RegionConfig.model_validate(negative)
