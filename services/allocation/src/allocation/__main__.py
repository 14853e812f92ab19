"""python -m allocation migrate|api|consumers|relay"""

from qosym_chassis.cli import service_main

from allocation.config import AllocationSettings

service_main(
    "allocation",
    AllocationSettings,
    "allocation.entrypoints.api:create_app",
    "allocation.entrypoints.consumers",
)
