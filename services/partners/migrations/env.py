from alembic import context

from partners.adapters.orm import metadata
from qosym_chassis.migrations import run_env

run_env(context.config.get_main_option("sqlalchemy.url"), metadata, context.configure)
