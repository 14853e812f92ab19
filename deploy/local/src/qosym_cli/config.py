"""Real servers instead of embedded ones, chosen through environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from qosym_cli.paths import SERVICES


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class ExternalServers:
    kafka_bootstrap_servers: str | None = None
    redis_url: str | None = None
    postgres_server_url: str | None = None
    kafka_idempotence: bool = False
    database_urls: dict[str, str] = field(default_factory=dict)
    migration_urls: dict[str, str] = field(default_factory=dict)
    app_roles: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> ExternalServers:
        env = os.environ
        return cls(
            kafka_bootstrap_servers=env.get("QOSYM_KAFKA_BOOTSTRAP_SERVERS") or None,
            redis_url=env.get("QOSYM_REDIS_URL") or None,
            postgres_server_url=(env.get("QOSYM_POSTGRES_URL") or "").rstrip("/") or None,
            kafka_idempotence=_truthy(env.get("QOSYM_KAFKA_IDEMPOTENCE")),
            database_urls={
                service: url for service in SERVICES if (url := env.get(f"QOSYM_{service.upper()}_DATABASE_URL"))
            },
            migration_urls={
                service: url
                for service in SERVICES
                if (url := env.get(f"QOSYM_{service.upper()}_MIGRATION_DATABASE_URL"))
            },
            app_roles={
                service: role for service in SERVICES if (role := env.get(f"QOSYM_{service.upper()}_DATABASE_APP_ROLE"))
            },
        )

    @property
    def needs_postgres(self) -> bool:
        """An embedded PostgreSQL is needed unless a server URL or every service's URL is given."""
        return self.postgres_server_url is None and set(self.database_urls) != set(SERVICES)


def database_name(service: str) -> str:
    return f"qosym_{service}"


def database_url(server_url: str, service: str) -> str:
    return f"{server_url}/{database_name(service)}"


def asyncpg_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url
