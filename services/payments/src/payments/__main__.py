"""python -m payments migrate|api|consumers|relay"""

from qosym_chassis.cli import service_main

from payments.config import PaymentsSettings

service_main("payments", PaymentsSettings, "payments.entrypoints.api:create_app", "payments.entrypoints.consumers")
