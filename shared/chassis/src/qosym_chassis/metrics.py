"""Prometheus metrics shared by every process (exposed on /metrics)."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

registry: CollectorRegistry = REGISTRY

HTTP_LATENCY = Histogram(
    "qosym_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route", "status"],
    registry=registry,
)
OUTBOX_BACKLOG = Gauge("qosym_outbox_backlog", "outbox rows not yet published", registry=registry)
OUTBOX_OLDEST_AGE = Gauge(
    "qosym_outbox_oldest_unpublished_seconds",
    "how long the oldest unpublished outbox row has waited",
    registry=registry,
)
DEAD_LETTERS = Gauge("qosym_dead_letters", "unresolved dead letters", registry=registry)
PARKED_EVENTS = Gauge("qosym_parked_events", "events parked until their prerequisite arrives", registry=registry)
PARKED_OVERDUE = Gauge(
    "qosym_parked_overdue", "events parked longer than QOSYM_PARKING_REPORT_AFTER_S", registry=registry
)
CONSUMER_LAG = Gauge("qosym_consumer_lag", "records not yet consumed by this service", ["topic"], registry=registry)
EVENTS_CONSUMED = Counter(
    "qosym_events_consumed_total", "events handled by outcome", ["topic", "outcome"], registry=registry
)
EVENTS_PARKED = Counter(
    "qosym_events_parked_total", "events parked until their prerequisite arrived", ["topic"], registry=registry
)
EVENTS_REFUSED = Counter(
    "qosym_events_refused_total",
    "outbox rows the broker refused for good (outgoing dead letters)",
    ["topic"],
    registry=registry,
)
OUTBOX_REFUSED = Gauge(
    "qosym_outbox_refused", "outbox rows the broker refused, set aside with their key's later rows", registry=registry
)
EVENTS_RELAYED = Counter("qosym_events_relayed_total", "outbox rows published", ["topic"], registry=registry)
