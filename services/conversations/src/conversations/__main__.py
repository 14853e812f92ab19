"""python -m conversations migrate|api|consumers|relay"""

from conversations.config import ConversationsSettings
from qosym_chassis.cli import service_main

service_main(
    "conversations",
    ConversationsSettings,
    "conversations.entrypoints.api:create_app",
    "conversations.entrypoints.consumers",
)
