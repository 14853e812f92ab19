"""Events the payments component tests feed to the consumer."""

from typing import Any

from qosym_chassis.consumer import IncomingMessage
from qosym_contracts.allocation import District, LocalisedName, RegionConfiguredV1


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


def message(event: RegionConfiguredV1) -> IncomingMessage:
    return IncomingMessage(topic=event.topic, body=event.model_dump_json().encode())
