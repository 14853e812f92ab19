from alembic import context

from qosym_chassis.migrations import run_env
from registry.adapters.orm import metadata

run_env(context.config.get_main_option("sqlalchemy.url"), metadata, context.configure)
