"""python -m notifications migrate|api|consumers|relay"""

from qosym_chassis.cli import service_main

from notifications.config import NotificationsSettings

service_main(
    "notifications",
    NotificationsSettings,
    "notifications.entrypoints.api:create_app",
    "notifications.entrypoints.consumers",
)
