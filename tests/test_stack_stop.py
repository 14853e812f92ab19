"""`qosym down` (LocalStack.stop) stops what another command recorded after this stack object read its state: a
process `qosym chaos` restarted is written to the state file by the chaos command, not to the test's own object."""

from __future__ import annotations

import subprocess
import sys

import pytest

from qosym_cli.processes import is_alive
from qosym_cli.stack import LocalStack
from qosym_cli.state import ProcessRecord
from tests.support.waiting import eventually

pytestmark = pytest.mark.unit


def test_a_process_another_command_started_and_recorded_is_stopped_too(tmp_path):
    mine = LocalStack(tmp_path)
    mine.save()  # this object's view: no service process
    restarted = subprocess.Popen(  # argv carries "-m catalog consumers", as the real process's does
        [sys.executable, "-c", "import time; time.sleep(600)", "-m", "catalog", "consumers"],
        start_new_session=True,
    )
    try:
        other = LocalStack(tmp_path)  # e.g. `qosym chaos` restarting a killed consumers process
        other.state.processes["catalog-consumers"] = ProcessRecord(
            "catalog-consumers", None, restarted.pid, service="catalog", role="consumers"
        )
        other.save()
        assert "catalog-consumers" not in mine.state.processes

        stopped = mine.stop()

        assert "catalog-consumers" in stopped
        eventually(lambda: restarted.poll() is not None or not is_alive(restarted.pid), timeout_s=20)
    finally:
        if restarted.poll() is None:
            restarted.kill()
        restarted.wait(timeout=10)
