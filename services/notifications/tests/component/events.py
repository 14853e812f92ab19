"""Events the notifications component tests feed to the consumer."""

from datetime import date
from typing import Any
from uuid import UUID, uuid4

from qosym_chassis.consumer import IncomingMessage
from qosym_contracts.registry import ChildRegisteredV1


def child_registered(guardian_id: UUID, child_id: UUID | None = None, **overrides: Any) -> ChildRegisteredV1:
    values: dict[str, Any] = {
        "child_id": child_id or uuid4(),
        "guardian_id": guardian_id,
        "birth_date": date(2018, 9, 5),
        "sex": "F",
        "region_code": "astana",
        "district_code": "yesil",
    }
    values.update(overrides)
    return ChildRegisteredV1(**values)


def message(event: ChildRegisteredV1) -> IncomingMessage:
    return IncomingMessage(topic=event.topic, body=event.model_dump_json().encode())
