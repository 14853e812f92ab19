"""Tracing and JSON logs for every process.

Spans go to an OTLP JSON lines file in local runs (QOSYM_OTEL_TRACES_FILE) and to OTLP/HTTP in
production (the standard OTEL_EXPORTER_OTLP_ENDPOINT). SQL spans come from the asyncpg
instrumentation (the SQLAlchemy one does nothing on SQLAlchemy 2.1); Kafka spans from FastStream's
middleware only (the aiokafka instrumentor would duplicate them).

Sampling follows the standard variables, ``OTEL_TRACES_SAMPLER`` (``always_on``, ``always_off``,
``traceidratio``, ``parentbased_always_on``, ``parentbased_always_off``, ``parentbased_traceidratio``) and
``OTEL_TRACES_SAMPLER_ARG`` (the ratio, 0..1). Unset, every trace is kept (``parentbased_always_on``, the SDK's
default; the local stack's default too, so its traces folder shows every request). Under load set
``parentbased_traceidratio`` with a ratio (the deploy files use 0.1): a request's statements then cost no spans
unless its trace was chosen, and a consumer follows the decision of the trace that produced its event. A value
that is not one of these is refused at start, not silently read as "keep everything".
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
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    ParentBased,
    Sampler,
    TraceIdRatioBased,
)
from pythonjsonlogger.json import JsonFormatter

_provider: TracerProvider | None = None
SAMPLERS = (
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
)


def sampler_from_env(environ: dict[str, str] | None = None) -> Sampler:
    """The sampler ``OTEL_TRACES_SAMPLER`` and ``OTEL_TRACES_SAMPLER_ARG`` name (see the module's docstring)."""
    env = os.environ if environ is None else environ
    name = (env.get("OTEL_TRACES_SAMPLER") or "parentbased_always_on").strip().lower()
    if name not in SAMPLERS:
        raise ValueError(f"OTEL_TRACES_SAMPLER={name!r} is not one of: {', '.join(SAMPLERS)}")
    ratio = 1.0
    if name.endswith("traceidratio"):
        raw = env.get("OTEL_TRACES_SAMPLER_ARG") or "1.0"
        try:
            ratio = float(raw)
        except ValueError:
            raise ValueError(f"OTEL_TRACES_SAMPLER_ARG={raw!r} is not a ratio between 0 and 1") from None
        if not 0.0 <= ratio <= 1.0:
            raise ValueError(f"OTEL_TRACES_SAMPLER_ARG={raw!r} is not a ratio between 0 and 1")
    root: Sampler = {"always_on": ALWAYS_ON, "always_off": ALWAYS_OFF}.get(
        name.removeprefix("parentbased_"), TraceIdRatioBased(ratio)
    )
    return ParentBased(root) if name.startswith("parentbased_") else root


def setup_tracing(service: str, process: str, traces_file: Path | None = None) -> TracerProvider:
    global _provider
    if _provider is not None:
        return _provider
    provider = TracerProvider(
        sampler=sampler_from_env(),
        resource=Resource.create({"service.name": service, "service.namespace": "qosym", "qosym.process": process}),
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


def log_formatter(service: str, process: str) -> logging.Formatter:
    """One JSON object per line: ``time`` (ISO 8601, UTC), ``level``, ``logger``, ``message``, the service and
    process, the trace and span ids where a span is current, and whatever ``extra`` a call adds; never colours."""
    return JsonFormatter(
        "%(levelname)s %(name)s %(message)s",
        rename_fields={"levelname": "level", "name": "logger"},
        static_fields={"service": service, "process": process},
        timestamp="time",
    )


def setup_logging(service: str, process: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(log_formatter(service, process))
    handler.addFilter(_TraceContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def uvicorn_log_config() -> dict[str, Any]:
    """Keep uvicorn from replacing our JSON handler."""
    return {"version": 1, "disable_existing_loggers": False}
