"""Kafka broker factory for tansu (local) and Apache Kafka (production).

tansu has no idempotent producer and no transactions, so idempotence is a setting
(QOSYM_KAFKA_IDEMPOTENCE=true against Apache Kafka). acks="all" either way. TLS and SASL come from the
QOSYM_KAFKA_SECURITY_* settings (qosym_chassis.kafka_security), passed as FastStream's ``security=``.
"""

from __future__ import annotations

import logging

from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from opentelemetry.sdk.trace import TracerProvider

from qosym_chassis.kafka_security import faststream_security, oauth_token_provider
from qosym_chassis.metrics import registry
from qosym_chassis.outbox import OutgoingMessage, Publish
from qosym_chassis.settings import ServiceSettings


def make_broker(settings: ServiceSettings, tracer_provider: TracerProvider) -> KafkaBroker:
    return KafkaBroker(
        settings.kafka_servers,
        client_id=settings.service_name,
        acks="all",
        enable_idempotence=settings.kafka_idempotence,
        request_timeout_ms=15_000,
        security=faststream_security(settings),
        sasl_oauth_token_provider=oauth_token_provider(settings),
        graceful_timeout=15.0,
        logger=logging.getLogger("qosym.faststream"),  # through the JSON handler, with trace ids
        log_level=logging.DEBUG,  # one line per message only when QOSYM_LOG_LEVEL=DEBUG
        middlewares=(
            KafkaTelemetryMiddleware(tracer_provider=tracer_provider),
            KafkaPrometheusMiddleware(registry=registry, app_name=settings.service_name),
        ),
    )


def broker_publisher(broker: KafkaBroker) -> Publish:
    """Publish one outbox row and return only after the broker acknowledged it (the relay counts it)."""

    async def publish(message: OutgoingMessage) -> None:
        await broker.publish(
            message.body,
            topic=message.topic,
            key=message.key.encode(),
            headers={
                "event_id": message.event_id,
                "event_type": message.event_type,
                "content-type": "application/json",
            },
        )

    return publish
