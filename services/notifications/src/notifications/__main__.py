"""python -m notifications migrate|api|consumers|relay"""

from notifications.config import NotificationsSettings
from qosym_chassis.cli import service_main

service_main(
    "notifications",
    NotificationsSettings,
    "notifications.entrypoints.api:create_app",
    "notifications.entrypoints.consumers",
)
