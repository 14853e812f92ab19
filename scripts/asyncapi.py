"""Write docs/asyncapi/<service>.json: what each service publishes and consumes (AsyncAPI 3).

uv run python scripts/asyncapi.py          # regenerate; tests/test_asyncapi.py checks they are current
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any, cast

from qosym_chassis.asyncapi import service_document
from qosym_chassis.consumer import EventConsumer
from qosym_chassis.context import ServiceContext
from qosym_chassis.db import make_engine, make_session_factory
from qosym_cli.paths import SERVICES

OUTPUT = Path(__file__).resolve().parents[1] / "docs" / "asyncapi"


def consumed_by(service: str) -> list[Any]:
    engine = make_engine("postgresql://docs@127.0.0.1/none", application_name="asyncapi")  # never connects
    consumer = EventConsumer(service=service, engine=engine, session_factory=make_session_factory(engine))
    importlib.import_module(f"{service}.entrypoints.consumers").register(consumer, cast(ServiceContext, None))
    return consumer.event_classes


def documents() -> dict[str, str]:
    return {
        f"{service}.json": json.dumps(service_document(service, consumed_by(service)), indent=2, sort_keys=True) + "\n"
        for service in SERVICES
    }


if __name__ == "__main__":
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for name, text in documents().items():
        (OUTPUT / name).write_text(text)
        print(f"wrote docs/asyncapi/{name}")
