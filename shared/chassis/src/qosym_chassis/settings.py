"""Settings every service process shares. Each service subclasses ServiceSettings.

All variables use the QOSYM_ prefix so one environment can configure any process:
the local stack sets them; production sets them from its secret store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from qosym_chassis.db import asyncpg_url

KafkaSecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
KafkaSaslMechanism = Literal["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN", "OAUTHBEARER"]


class KafkaSettings(BaseSettings):
    """How every Kafka client of a process connects: the bootstrap list, TLS and SASL (docs/security.md, "Kafka").

    Checked when the settings load, so a process with a bad combination refuses to start naming the variable,
    instead of failing at its first connection: SASL without its credentials, a mechanism without SASL, TLS files
    with a protocol that has no TLS, or a CA, certificate or key file that is missing or does not load."""

    model_config = SettingsConfigDict(env_prefix="QOSYM_", env_ignore_empty=True, extra="ignore")

    kafka_bootstrap_servers: str = Field(default="127.0.0.1:9092", description="comma-separated bootstrap list")
    kafka_idempotence: bool = Field(
        default=False, description="enable the idempotent producer (Apache Kafka yes, tansu no)"
    )
    kafka_security_protocol: KafkaSecurityProtocol = Field(
        default="PLAINTEXT", description="PLAINTEXT (the local stack), SSL, SASL_PLAINTEXT or SASL_SSL"
    )
    kafka_sasl_mechanism: KafkaSaslMechanism | None = Field(
        default=None, description="required with SASL_*: SCRAM-SHA-256, SCRAM-SHA-512, PLAIN or OAUTHBEARER"
    )
    kafka_sasl_username: str | None = Field(default=None, description="SCRAM and PLAIN: the Kafka user")
    kafka_sasl_password: SecretStr | None = Field(default=None, description="SCRAM and PLAIN: its password (secret)")
    kafka_sasl_oauth_token_file: Path | None = Field(
        default=None,
        description="OAUTHBEARER: a file holding the access token, read again at every authentication (a "
        "projected or sidecar-refreshed token)",
    )
    kafka_ssl_ca_file: Path | None = Field(
        default=None,
        description="SSL and SASL_SSL: PEM CA bundle the brokers' certificates are checked against "
        "(default: the system's CAs)",
    )
    kafka_ssl_cert_file: Path | None = Field(default=None, description="mutual TLS: the client certificate (PEM)")
    kafka_ssl_key_file: Path | None = Field(default=None, description="mutual TLS: its private key (PEM)")
    kafka_ssl_key_password: SecretStr | None = Field(default=None, description="the private key's passphrase")

    @model_validator(mode="after")
    def _check_kafka_security(self) -> Self:
        from qosym_chassis.kafka_security import check_kafka_settings  # ssl and aiokafka only when loaded

        check_kafka_settings(self)
        return self

    @property
    def kafka_servers(self) -> list[str]:
        return [s.strip() for s in self.kafka_bootstrap_servers.split(",") if s.strip()]


def kafka_security_variables() -> tuple[str, ...]:
    """The environment variables of Kafka's TLS and SASL settings (``QOSYM_KAFKA_SECURITY_PROTOCOL``, …), read from
    ``KafkaSettings`` itself: what the local stack blanks for its plaintext broker, so a new setting cannot be
    missed."""
    prefix = str(KafkaSettings.model_config.get("env_prefix", ""))
    return tuple(
        f"{prefix}{name}".upper()
        for name in KafkaSettings.model_fields
        if name.startswith(("kafka_security_", "kafka_sasl_", "kafka_ssl_"))
    )


class ServiceSettings(KafkaSettings):
    model_config = SettingsConfigDict(env_prefix="QOSYM_", env_ignore_empty=True, extra="ignore")

    service_name: str = "qosym"
    database_url: str = Field(
        description="PostgreSQL URL of this service's own database, as its least-privileged app role (DML only)"
    )
    migration_database_url: str | None = Field(
        default=None, description="the same database as its owner role, for `migrate` (default: database_url)"
    )
    database_app_role: str | None = Field(
        default=None, description="`migrate` grants this role DML on every table (INSERT and SELECT on audit_log)"
    )
    redis_url: str = "redis://127.0.0.1:6379/0"
    port: int = 8000
    api_workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="API worker processes sharing the port (uvicorn workers; each has its own pools and caches)",
    )
    database_pool_size: int = Field(
        default=10,
        ge=1,
        le=200,
        description="connections each process keeps in its pool (as many again may open under a burst); size "
        "PostgreSQL's max_connections for every process of every service times twice this",
    )
    log_level: str = "INFO"
    dev_mode: bool = False
    clock_offset_s: int = Field(
        default=0, description="development only: shift this process's clock (end-to-end tests of month ends)"
    )

    jwks_url: str = "http://127.0.0.1:8001/.well-known/jwks.json"
    jwt_issuer: str = "qosym-registry"
    jwt_audience: str = "qosym"
    jwt_leeway_s: int = Field(default=5, ge=0, le=60, description="clock skew tolerated on a token's exp and iat")
    cors_origins: list[str] = Field(default_factory=list)
    trusted_proxies: str = Field(
        default="",
        description="comma-separated addresses or networks of the reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed; none by default, so the client address is the TCP peer's",
    )

    keys_dir: Path = Field(default=Path(".qosym/keys"), description="development keys; production mounts secrets")
    audit_trail: bool = Field(default=False, description="this service keeps an audit trail (the audit_log table)")
    audit_mac_key: SecretStr | None = Field(
        default=None, description="hex HMAC key of the audit trail (production secret; default: a key in keys_dir)"
    )
    audit_head_dir: Path = Field(
        default=Path(".qosym/audit-heads"), description="signed audit heads, outside the database (an object store)"
    )
    audit_chains: int = Field(
        default=16,
        ge=1,
        le=1024,
        description="chains the audit trail spreads over by aggregate, so writers of different aggregates never wait"
        " on one lock (verification reads whatever chains exist; changing it moves aggregates' new rows only)",
    )
    audit_head_interval_s: float = Field(default=60.0, description="how often the relay publishes a signed head")

    otel_traces_file: Path | None = Field(default=None, description="OTLP JSON lines file (local runs)")

    idempotency_ttl_s: int = Field(
        default=24 * 3600, ge=60, description="how long an Idempotency-Key's stored response is replayed, then deleted"
    )
    idempotency_prune_interval_s: float = 600.0

    outbox_replay_window_hours: int = 7 * 24
    outbox_batch_size: int = Field(
        default=1_000, ge=1, le=10_000, description="outbox rows the relay sends before awaiting their acks"
    )
    outbox_poll_interval_s: float = 1.0
    consumer_max_attempts: int = 5
    consumer_batch_max: int = Field(
        default=256,
        ge=1,
        le=10_000,
        description="records a consumer applies in one transaction (what one poll hands over, at most this); "
        "1 = one event per transaction",
    )
    consumer_backoff_base_s: float = 0.2
    consumer_backoff_max_s: float = 10.0
    parking_report_after_s: float = Field(
        default=900.0, gt=0, description="a parked event waiting longer than this is reported (metric, qosym status)"
    )

    @field_validator("database_url", "migration_database_url")
    @classmethod
    def _use_asyncpg(cls, value: str | None) -> str | None:
        return asyncpg_url(value) if value else value

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [p.strip() for p in self.trusted_proxies.split(",") if p.strip()]
