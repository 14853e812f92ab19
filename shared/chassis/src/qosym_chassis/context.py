"""What every process of a service holds: settings, database, Redis, broker, tracing."""

from __future__ import annotations

from dataclasses import dataclass

from faststream.kafka import KafkaBroker
from opentelemetry.sdk.trace import TracerProvider
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from qosym_chassis.audit import INFO_KEY, AuditTrail, trail_from_settings
from qosym_chassis.broker import make_broker
from qosym_chassis.clock import Clock
from qosym_chassis.db import make_engine, make_session_factory
from qosym_chassis.settings import ServiceSettings
from qosym_chassis.telemetry import setup_logging, setup_tracing


@dataclass
class ServiceContext:
    settings: ServiceSettings
    process: str
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    redis: Redis
    broker: KafkaBroker
    tracer_provider: TracerProvider
    clock: Clock
    audit: AuditTrail | None = None

    async def close(self) -> None:
        await self.broker.stop()
        await self.redis.aclose()
        await self.engine.dispose()


def build_context(settings: ServiceSettings, process: str) -> ServiceContext:
    setup_logging(settings.service_name, process, settings.log_level)
    provider = setup_tracing(settings.service_name, process, settings.otel_traces_file)
    # The consumers retry a failed delivery on a fresh connection (EventConsumer), so they do not pay a pre-ping:
    # three round trips before every event, more than most handlers' own statements.
    engine = make_engine(
        settings.database_url,
        application_name=f"{settings.service_name}-{process}",
        pool_size=settings.database_pool_size,
        pre_ping=process != "consumers",
    )
    audit = trail_from_settings(settings) if settings.audit_trail else None
    return ServiceContext(
        settings=settings,
        process=process,
        engine=engine,
        session_factory=make_session_factory(engine, {INFO_KEY: audit} if audit else None),
        redis=Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=5),
        broker=make_broker(settings, provider),
        tracer_provider=provider,
        clock=Clock.from_settings(settings),
        audit=audit,
    )
