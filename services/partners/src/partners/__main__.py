"""python -m partners migrate|api|consumers|relay"""

from partners.config import PartnersSettings
from qosym_chassis.cli import service_main

service_main(
    "partners",
    PartnersSettings,
    "partners.entrypoints.api:create_app",
    "partners.entrypoints.consumers",
)
