"""The Grafana dashboard and the Prometheus alert rules, as data, from the metrics the chassis and services export.

deploy/render.py writes them beside the compose file: ``alerts.yaml`` (loaded by Prometheus), the dashboard JSON and
its Grafana provisioning. Every expression names only metrics the code defines (tests/deploy/test_observability.py
checks that, runs ``promtool check config`` and ``promtool test rules`` on them).

Metrics (qosym_chassis.metrics unless named): ``qosym_http_request_duration_seconds`` (method, route, status),
``qosym_consumer_lag`` (topic), ``qosym_events_consumed_total`` (topic, outcome), ``qosym_outbox_backlog``,
``qosym_outbox_oldest_unpublished_seconds``, ``qosym_outbox_refused``, ``qosym_dead_letters``,
``qosym_parked_overdue``, payments' ``qosym_reconciliation_findings`` (check), registry's
``qosym_registry_limiter_degraded_total``. Prometheus adds ``service`` and ``role`` from the scrape target.
"""

from __future__ import annotations

from typing import Any

HTTP = "qosym_http_request_duration_seconds"


def _alert(name: str, expr: str, duration: str, severity: str, summary: str, runbook: str) -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": duration,
        "labels": {"severity": severity},
        "annotations": {"summary": summary, "runbook": f"docs/operations.md#{runbook}"},
    }


def alert_rules() -> dict[str, Any]:
    """Alerts an operator of a public-money platform acts on; each names its runbook section."""
    return {
        "groups": [
            {
                "name": "qosym-requests",
                "rules": [
                    _alert(
                        "QosymApiErrors",
                        f'sum by (service) (rate({HTTP}_count{{status=~"5.."}}[5m]))'
                        f" / sum by (service) (rate({HTTP}_count[5m])) > 0.01",
                        "5m",
                        "page",
                        "{{ $labels.service }}: more than 1% of requests answered 5xx",
                        "runbooks",
                    ),
                    _alert(
                        "QosymApiSlow",
                        f"histogram_quantile(0.99, sum by (service, le) (rate({HTTP}_bucket[5m]))) > 0.25",
                        "10m",
                        "ticket",
                        "{{ $labels.service }}: p99 latency above 250 ms",
                        "runbooks",
                    ),
                    _alert(
                        "QosymProcessDown",
                        'up{job="qosym"} == 0',
                        "2m",
                        "page",
                        "{{ $labels.service }} {{ $labels.role }} is not answering its metrics scrape",
                        "runbooks",
                    ),
                ],
            },
            {
                "name": "qosym-events",
                "rules": [
                    _alert(
                        "QosymConsumerLag",
                        "max by (service, topic) (qosym_consumer_lag) > 10000",
                        "10m",
                        "page",
                        "{{ $labels.service }} is {{ $value }} records behind on {{ $labels.topic }}",
                        "scale-consumers",
                    ),
                    _alert(
                        "QosymOutboxBacklog",
                        "max by (service) (qosym_outbox_oldest_unpublished_seconds) > 60",
                        "5m",
                        "page",
                        "{{ $labels.service }}: an event has waited {{ $value }} s in the outbox",
                        "replay-after-a-broker-loss",
                    ),
                    _alert(
                        "QosymOutboxRefused",
                        "max by (service) (qosym_outbox_refused) > 0",
                        "0m",
                        "page",
                        "{{ $labels.service }}: the broker refused outbox rows (their keys wait behind them)",
                        "drain-and-retry-dead-letters",
                    ),
                    _alert(
                        "QosymDeadLetters",
                        "max by (service) (qosym_dead_letters) > 0",
                        "1m",
                        "ticket",
                        "{{ $labels.service }}: {{ $value }} dead letters wait for an operator",
                        "drain-and-retry-dead-letters",
                    ),
                    _alert(
                        "QosymParkedOverdue",
                        "max by (service) (qosym_parked_overdue) > 0",
                        "15m",
                        "ticket",
                        "{{ $labels.service }}: events parked past their report time (a prerequisite never came)",
                        "drain-and-retry-dead-letters",
                    ),
                ],
            },
            {
                "name": "qosym-money",
                "rules": [
                    _alert(
                        "QosymReconciliationFindings",
                        "max by (check) (qosym_reconciliation_findings) > 0",
                        "0m",
                        "page",
                        "reconciliation check {{ $labels.check }} has {{ $value }} findings: stop payment batches",
                        "restore-one-services-database-and-reconcile",
                    ),
                    _alert(
                        "QosymRegistryLimiterDegraded",
                        "increase(qosym_registry_limiter_degraded_total[5m]) > 0",
                        "0m",
                        "ticket",
                        "registry's login limiter fell back to per-process counters (Redis unreachable)",
                        "runbooks",
                    ),
                ],
            },
        ]
    }


def _panel(number: int, title: str, targets: list[tuple[str, str]], unit: str, x: int, y: int) -> dict[str, Any]:
    return {
        "id": number,
        "type": "timeseries",
        "title": title,
        "datasource": {"type": "prometheus", "uid": "prometheus"},
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "table", "placement": "bottom"}},
        "targets": [
            {"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend}
            for i, (expr, legend) in enumerate(targets)
        ],
    }


PANELS: list[tuple[str, list[tuple[str, str]], str]] = [
    (
        "Requests per route",
        [(f"sum by (service, route) (rate({HTTP}_count[5m]))", "{{service}} {{route}}")],
        "reqps",
    ),
    (
        "Errors (5xx) per route",
        [(f'sum by (service, route) (rate({HTTP}_count{{status=~"5.."}}[5m]))', "{{service}} {{route}}")],
        "reqps",
    ),
    (
        "Latency p99 per route",
        [
            (
                f"histogram_quantile(0.99, sum by (service, route, le) (rate({HTTP}_bucket[5m])))",
                "{{service}} {{route}}",
            )
        ],
        "s",
    ),
    (
        "Consumer lag per service and topic",
        [("max by (service, topic) (qosym_consumer_lag)", "{{service}} {{topic}}")],
        "short",
    ),
    (
        "Events consumed by outcome",
        [("sum by (service, outcome) (rate(qosym_events_consumed_total[5m]))", "{{service}} {{outcome}}")],
        "ops",
    ),
    (
        "Outbox backlog and oldest unpublished",
        [
            ("max by (service) (qosym_outbox_backlog)", "{{service}} rows"),
            ("max by (service) (qosym_outbox_oldest_unpublished_seconds)", "{{service}} oldest (s)"),
        ],
        "short",
    ),
    (
        "Dead letters, refused rows, overdue parked events",
        [
            ("max by (service) (qosym_dead_letters)", "{{service}} dead letters"),
            ("max by (service) (qosym_outbox_refused)", "{{service}} refused"),
            ("max by (service) (qosym_parked_overdue)", "{{service}} parked overdue"),
        ],
        "short",
    ),
    (
        "Reconciliation findings per check",
        [("max by (check) (qosym_reconciliation_findings)", "{{check}}")],
        "short",
    ),
]


def dashboard() -> dict[str, Any]:
    return {
        "uid": "qosym-overview",
        "title": "Qosym overview",
        "tags": ["qosym"],
        "timezone": "utc",
        "schemaVersion": 39,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "panels": [
            _panel(n + 1, title, targets, unit, x=(n % 2) * 12, y=(n // 2) * 8)
            for n, (title, targets, unit) in enumerate(PANELS)
        ],
    }


def dashboard_provider() -> dict[str, Any]:
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": "qosym",
                "folder": "Qosym",
                "type": "file",
                "disableDeletion": True,
                "options": {"path": "/var/lib/grafana/dashboards"},
            }
        ],
    }


def expressions() -> list[str]:
    """Every PromQL expression of the alerts and the dashboard (the tests check the metrics they name exist)."""
    alerts = [rule["expr"] for group in alert_rules()["groups"] for rule in group["rules"]]
    return alerts + [expr for _, targets, _ in PANELS for expr, _ in targets]
