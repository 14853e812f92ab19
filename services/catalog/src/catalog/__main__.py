"""python -m catalog migrate|api|consumers|relay"""

from catalog.config import CatalogSettings
from qosym_chassis.cli import service_main

service_main("catalog", CatalogSettings, "catalog.entrypoints.api:create_app", "catalog.entrypoints.consumers")
