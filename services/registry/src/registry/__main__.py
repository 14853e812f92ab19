"""python -m registry migrate|api|consumers|relay|import|bootstrap-admin"""

from qosym_chassis.cli import service_main
from registry.config import RegistrySettings

service_main(
    "registry",
    RegistrySettings,
    "registry.entrypoints.api:create_app",
    "registry.entrypoints.consumers",
    commands={
        "import": "registry.entrypoints.importer:main",
        "bootstrap-admin": "registry.entrypoints.bootstrap_admin:main",
    },
)
