"""Events that component tests feed to a service's consumer, as the Kafka subscriber would."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

from qosym_chassis.consumer import IncomingMessage
from qosym_contracts.allocation import District, LocalisedName, RegionConfiguredV1
from qosym_contracts.envelope import IntegrationEvent
from qosym_contracts.registry import ChildRegisteredV1


def region_event(revision: int = 1, **overrides: Any) -> RegionConfiguredV1:
    values: dict[str, Any] = {
        "region_code": "astana",
        "revision": revision,
        "name": LocalisedName(en="Astana", kk="Астана", ru="Астана"),
        "timezone": "Asia/Almaty",
        "districts": [District(code="yesil", name=LocalisedName(en="Yesil", kk="Есіл", ru="Есиль"))],
        "consultation_points": [],
        "directions": ["sports", "creativity"],
        "child_age_min": 4,
        "child_age_max": 18,
        "voucher_monthly_value_tiyn": {"sports": 1_500_000, "creativity": 1_200_000},
        "voucher_months": 9,
        "priority_weights": {"orphan": 120},
        "budget_tiyn": 250_000_000_000,
        "direction_quotas": {"sports": 0.5, "creativity": 0.5},
    }
    values.update(overrides)
    return RegionConfiguredV1(**values)


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


def message(event: IntegrationEvent) -> IncomingMessage:
    return IncomingMessage(topic=event.topic, body=event.model_dump_json().encode())
