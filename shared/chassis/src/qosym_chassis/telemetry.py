"""Tracing and JSON logs for every process.

Spans go to an OTLP JSON lines file in local runs (QOSYM_OTEL_TRACES_FILE) and to OTLP/HTTP in
production (the standard OTEL_EXPORTER_OTLP_ENDPOINT). SQL spans come from the asyncpg
instrumentation (the SQLAlchemy one does nothing on SQLAlchemy 2.1); Kafka spans from FastStream's
middleware only (the aiokafka instrumentor would duplicate them).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from pythonjsonlogger.json import JsonFormatter

_provider: TracerProvider | None = None


def setup_tracing(service: str, process: str, traces_file: Path | None = None) -> TracerProvider:
    global _provider
    if _provider is not None:
        return _provider
    provider = TracerProvider(
        resource=Resource.create({"service.name": service, "service.namespace": "qosym", "qosym.process": process})
    )
    for exporter in _exporters(traces_file):
        provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=500))
    trace.set_tracer_provider(provider)
    AsyncPGInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]  # the instrumentor ships no annotations
    RedisInstrumentor().instrument(tracer_provider=provider)
    _provider = provider
    return provider


def _exporters(traces_file: Path | None) -> list[SpanExporter]:
    exporters: list[SpanExporter] = []
    if traces_file is not None:
        from opentelemetry.exporter.otlp.json.file import FileSpanExporter

        traces_file.parent.mkdir(parents=True, exist_ok=True)
        exporters.append(FileSpanExporter(traces_file))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporters.append(OTLPSpanExporter())
    return exporters


def shutdown_tracing() -> None:
    if _provider is not None:
        _provider.shutdown()


class _TraceContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        record.trace_id = format(context.trace_id, "032x") if context.is_valid else None
        record.span_id = format(context.span_id, "016x") if context.is_valid else None
        return True


def setup_logging(service: str, process: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            static_fields={"service": service, "process": process},
        )
    )
    handler.addFilter(_TraceContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def uvicorn_log_config() -> dict[str, Any]:
    """Keep uvicorn from replacing our JSON handler."""
    return {"version": 1, "disable_existing_loggers": False}
