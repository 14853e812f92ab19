"""Readiness and metrics of running processes."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

from qosym_cli.ports import HOST

LAG = "qosym_consumer_lag"
BACKLOG = "qosym_outbox_backlog"
DEAD_LETTERS = "qosym_dead_letters"
PARKED = "qosym_parked_events"
PARKED_OVERDUE = "qosym_parked_overdue"


def is_ready(port: int, timeout_s: float = 2.0) -> bool:
    try:
        response = httpx.get(f"http://{HOST}:{port}/health/ready", timeout=timeout_s)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


@dataclass(frozen=True)
class ProcessMetrics:
    consumer_lag: float | None = None
    outbox_backlog: float | None = None
    dead_letters: float | None = None
    parked: float | None = None
    parked_overdue: float | None = None


def _gauge_sums(text: str) -> dict[str, float]:
    sums: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name not in (LAG, BACKLOG, DEAD_LETTERS, PARKED, PARKED_OVERDUE):
            continue
        sums[family.name] = sum(sample.value for sample in family.samples if sample.name == family.name)
    return sums


def read_metrics(port: int, timeout_s: float = 2.0) -> ProcessMetrics:
    try:
        response = httpx.get(f"http://{HOST}:{port}/metrics", timeout=timeout_s, follow_redirects=True)
        response.raise_for_status()
        sums = _gauge_sums(response.text)
    except (httpx.HTTPError, ValueError):
        return ProcessMetrics()
    return ProcessMetrics(
        consumer_lag=sums.get(LAG),
        outbox_backlog=sums.get(BACKLOG),
        dead_letters=sums.get(DEAD_LETTERS),
        parked=sums.get(PARKED),
        parked_overdue=sums.get(PARKED_OVERDUE),
    )
