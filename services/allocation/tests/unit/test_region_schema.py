"""deploy/regions/region.schema.json is RegionConfig's JSON Schema, and every shipped region file passes it."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[4]
SCHEMA = REPO / "deploy" / "regions" / "region.schema.json"

pytestmark = pytest.mark.unit


def generated() -> str:
    spec = importlib.util.spec_from_file_location("region_schema", REPO / "scripts" / "region_schema.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text: str = module.schema_text()
    return text


def test_the_schema_file_is_current():
    assert SCHEMA.read_text(encoding="utf-8") == generated(), "run `uv run --frozen python scripts/region_schema.py`"


@pytest.mark.parametrize("path", sorted((REPO / "deploy" / "regions").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_region_file_passes_the_schema(path):
    document = json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str))
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(document)


def test_a_wrong_field_is_named_by_the_schema():
    document = json.loads(json.dumps(yaml.safe_load((REPO / "deploy/regions/astana.yaml").read_text()), default=str))
    document["timezone"] = 7
    document["surprise"] = True
    errors = list(jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).iter_errors(document))
    assert {e.json_path for e in errors} >= {"$.timezone", "$"}
