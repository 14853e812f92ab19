"""The dashboard and the alert rules (deploy/observability.py, rendered into deploy/compose/): checked by the real
promtool (Debian's prometheus package, unpacked on first use: no service is installed or started), unit-tested with
``promtool test rules`` (tests/deploy/alerts_test.yaml), and every expression names a metric the code exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "deploy" / "compose"
CACHE = Path.home() / ".cache" / "qosym-tools"

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def promtool() -> str:
    """promtool from PATH, else from Debian's prometheus package unpacked into a cache (apt-get download + dpkg -x)."""
    found = shutil.which("promtool") or (
        str(CACHE / "usr/bin/promtool") if (CACHE / "usr/bin/promtool").exists() else None
    )
    if found:
        return found
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        download = ["apt-get", "download", "prometheus"]
        if subprocess.run(download, cwd=folder, capture_output=True, check=False).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True)
            subprocess.run(download, cwd=folder, check=True, capture_output=True)
        (package,) = Path(folder).glob("prometheus_*.deb")
        subprocess.run(["dpkg", "-x", str(package), str(CACHE)], check=True)
    return str(CACHE / "usr/bin/promtool")


def test_prometheus_config_and_its_rules_pass_promtool(promtool):
    result = subprocess.run(
        [promtool, "check", "config", str(COMPOSE / "prometheus.yaml")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "rule files found" in result.stdout


def test_the_alerts_fire_on_what_they_are_for(promtool):
    result = subprocess.run(
        [promtool, "test", "rules", "alerts_test.yaml"], cwd=REPO / "tests" / "deploy", capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def expressions() -> list[str]:
    alerts = yaml.safe_load((COMPOSE / "alerts.yaml").read_text())
    dashboard = json.loads((COMPOSE / "grafana" / "dashboards" / "qosym.json").read_text())
    return [r["expr"] for g in alerts["groups"] for r in g["rules"]] + [
        t["expr"] for panel in dashboard["panels"] for t in panel["targets"]
    ]


def exported_metric_names() -> set[str]:
    """Names given to prometheus_client metrics anywhere in the chassis or a service's source."""
    names: set[str] = set()
    pattern = re.compile(r'(?:Gauge|Counter|Histogram|Summary)\(\s*"(qosym_[a-z_]+)"', re.MULTILINE)
    for path in [*REPO.glob("shared/*/src/**/*.py"), *REPO.glob("services/*/src/**/*.py")]:
        names |= set(pattern.findall(path.read_text()))
    return names


def test_every_expression_names_a_metric_the_code_exports():
    exported = exported_metric_names()
    assert "qosym_http_request_duration_seconds" in exported and "qosym_reconciliation_findings" in exported
    unknown = set()
    for expr in expressions():
        for name in re.findall(r"\b(qosym_[a-z_]+)", expr):
            base = re.sub(r"_(bucket|count|sum|total)$", "", name)
            if name not in exported and base not in exported:
                unknown.add(name)
    assert unknown == set()


def test_the_dashboard_covers_requests_lag_outbox_dead_letters_and_reconciliation():
    dashboard = json.loads((COMPOSE / "grafana" / "dashboards" / "qosym.json").read_text())
    joined = " ".join(expressions())
    for metric in (
        "qosym_http_request_duration_seconds_count",
        "qosym_http_request_duration_seconds_bucket",
        "qosym_consumer_lag",
        "qosym_outbox_backlog",
        "qosym_outbox_oldest_unpublished_seconds",
        "qosym_dead_letters",
        "qosym_reconciliation_findings",
    ):
        assert metric in joined
    datasources = yaml.safe_load(
        (COMPOSE / "grafana" / "provisioning" / "datasources" / "datasources.yaml").read_text()
    )
    uids = {d["uid"] for d in datasources["datasources"]}
    assert {p["datasource"]["uid"] for p in dashboard["panels"]} <= uids


def test_every_alert_names_a_runbook_section_that_exists():
    headings = re.findall(r"^#+ (.+)$", (REPO / "docs" / "operations.md").read_text(), re.MULTILINE)
    anchors = {re.sub(r"[^a-z0-9 -]", "", h.lower()).strip().replace(" ", "-") for h in headings}
    alerts = yaml.safe_load((COMPOSE / "alerts.yaml").read_text())
    runbooks = {r["annotations"]["runbook"].split("#", 1)[1] for g in alerts["groups"] for r in g["rules"]}
    assert runbooks - anchors == set()
