"""python -m payments migrate|api|consumers|relay"""

from payments.config import PaymentsSettings
from qosym_chassis.cli import service_main

service_main("payments", PaymentsSettings, "payments.entrypoints.api:create_app", "payments.entrypoints.consumers")
