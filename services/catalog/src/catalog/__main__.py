"""python -m catalog migrate|api|consumers|relay"""

from qosym_chassis.cli import service_main

from catalog.config import CatalogSettings

service_main("catalog", CatalogSettings, "catalog.entrypoints.api:create_app", "catalog.entrypoints.consumers")
