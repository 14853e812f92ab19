"""python -m allocation migrate|api|consumers|relay|import"""

from allocation.config import AllocationSettings
from qosym_chassis.cli import service_main

service_main(
    "allocation",
    AllocationSettings,
    "allocation.entrypoints.api:create_app",
    "allocation.entrypoints.consumers",
    commands={"import": "allocation.entrypoints.importer:main"},
)
