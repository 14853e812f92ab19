"""Write deploy/regions/region.schema.json: the JSON Schema of a region file, from allocation's RegionConfig.

Editors and `qosym region apply --dry-run` validate region files against it before anything is sent; a test in
services/allocation/tests/unit/test_region_schema.py fails when the file and the model drift apart.

    uv run --frozen python scripts/region_schema.py
"""

from __future__ import annotations

import json
from pathlib import Path

from allocation.domain.region import RegionConfig

TARGET = Path(__file__).resolve().parents[1] / "deploy" / "regions" / "region.schema.json"


def schema_text() -> str:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://qosym.kz/schemas/region.schema.json",
        **RegionConfig.model_json_schema(mode="validation"),
    }
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":
    TARGET.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(Path.cwd()) if TARGET.is_relative_to(Path.cwd()) else TARGET}")
