"""`qosym region apply` against a deployment, as a rollout team runs it: `--url` and a token (`QOSYM_TOKEN`), from a
folder that holds no stack at all. A dry run validates against deploy/regions/region.schema.json and shows the
difference without changing anything; the applied region reaches every service's projection without a restart."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.stack_ops import db_value
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e
REGIONS = Path(__file__).resolve().parents[2] / "deploy" / "regions"
REGION = "remoteshire"


def remote_qosym(tmp_path: Path, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    nowhere = tmp_path / "no-stack-here"
    return subprocess.run(
        [sys.executable, "-m", "qosym_cli.main", *args, "--home", str(nowhere)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "300", "QOSYM_TOKEN": token},
    )


def test_a_third_region_is_added_over_the_api_with_a_token_and_a_dry_run_changes_nothing(
    api, token, running_stack, tmp_path
):
    allocation = api("allocation")
    url = str(allocation.base_url).rstrip("/")
    pids = {name: record.pid for name, record in running_stack.state.processes.items()}
    region = yaml.safe_load((REGIONS / "astana.yaml").read_text())
    region.update(code=REGION, name={"en": "Remoteshire", "kk": "Remoteshire", "ru": "Remoteshire"})
    region_file = tmp_path / f"{REGION}.yaml"
    region_file.write_text(yaml.safe_dump(region, allow_unicode=True))
    admin = token("administrator")

    new = remote_qosym(tmp_path, admin, "region", "apply", str(region_file), "--url", url, "--dry-run")
    assert new.returncode == 0, new.stdout + new.stderr
    assert f"region {REGION} is new" in new.stdout
    assert allocation.get(f"/v1/regions/{REGION}").status_code == 404

    refused = remote_qosym(tmp_path, token("parent"), "region", "apply", str(region_file), "--url", url)
    assert refused.returncode == 1
    assert allocation.get(f"/v1/regions/{REGION}").status_code == 404

    applied = remote_qosym(tmp_path, admin, "region", "apply", str(region_file), "--url", url)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert f"region {REGION} added" in applied.stdout
    projections = {
        "registry": "select count(*) from region where code = $1",
        "catalog": "select count(*) from region where code = $1",
        "attendance": "select count(*) from region where code = $1",
        "payments": "select count(*) from region_budget where region_code = $1",
    }
    for service, query in projections.items():
        eventually(lambda s=service, q=query: db_value(running_stack, s, q, REGION))

    same = remote_qosym(tmp_path, admin, "region", "apply", str(region_file), "--url", url, "--dry-run")
    assert same.returncode == 0 and "no change" in same.stdout, same.stdout + same.stderr

    region["budget_tiyn"] = region["budget_tiyn"] + 1_000
    region_file.write_text(yaml.safe_dump(region, allow_unicode=True))
    changed = remote_qosym(tmp_path, admin, "region", "apply", str(region_file), "--url", url, "--dry-run")
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert f"~ budget_tiyn: {region['budget_tiyn'] - 1_000} -> {region['budget_tiyn']}" in changed.stdout
    assert allocation.get(f"/v1/regions/{REGION}").json()["config"]["budget_tiyn"] == region["budget_tiyn"] - 1_000

    region["timezone"] = 7
    region_file.write_text(yaml.safe_dump(region, allow_unicode=True))
    invalid = remote_qosym(tmp_path, admin, "region", "apply", str(region_file), "--url", url, "--dry-run")
    assert invalid.returncode == 1 and "timezone" in invalid.stdout + invalid.stderr

    # nothing was restarted: every process of the stack is the one that was running before
    assert {name: record.pid for name, record in running_stack.state.processes.items()} == pids
