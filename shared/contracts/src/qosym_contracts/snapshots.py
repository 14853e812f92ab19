"""JSON Schema snapshots of every event: ``python -m qosym_contracts.snapshots`` rewrites them.

The committed files are the reviewed contract; a test fails when a model and its snapshot differ.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from qosym_contracts.event_index import ALL_EVENTS, schema_name

SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas"


def rendered() -> dict[str, str]:
    documents: dict[str, str] = {}
    for event in ALL_EVENTS:
        schema: dict[str, Any] = event.model_json_schema(mode="serialization")
        schema["x-topic"] = event.topic
        schema["x-key"] = event.key_field
        documents[f"{schema_name(event)}.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return documents


def write(folder: Path = SCHEMAS_DIR) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in rendered().items():
        (folder / name).write_text(text)
    return sorted(rendered())


if __name__ == "__main__":
    for written in write():
        sys.stdout.write(f"wrote {written}\n")
