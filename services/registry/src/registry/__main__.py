"""python -m registry migrate|api|consumers|relay|import"""

from qosym_chassis.cli import service_main
from registry.config import RegistrySettings

service_main(
    "registry",
    RegistrySettings,
    "registry.entrypoints.api:create_app",
    "registry.entrypoints.consumers",
    commands={"import": "registry.entrypoints.importer:main"},
)
