"""python -m insights migrate|api|consumers (insights publishes nothing: its relay has an empty outbox)"""

from insights.config import InsightsSettings
from qosym_chassis.cli import service_main

service_main("insights", InsightsSettings, "insights.entrypoints.api:create_app", "insights.entrypoints.consumers")
