"""Log lines are JSON with an ISO 8601 UTC time, the service and process, and no terminal colour codes."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from qosym_chassis.telemetry import log_formatter


def test_a_log_line_is_json_with_an_iso_8601_utc_time_and_the_service():
    record = logging.LogRecord("qosym.test", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
    record.created = datetime(2026, 12, 3, 6, 30, 1, 250000, tzinfo=UTC).timestamp()
    line = log_formatter("registry", "api").format(record)
    data = json.loads(line)
    assert data["time"] == "2026-12-03T06:30:01.250000+00:00"
    assert datetime.fromisoformat(data["time"]).utcoffset().total_seconds() == 0
    assert (data["level"], data["logger"], data["message"]) == ("WARNING", "qosym.test", "hello world")
    assert (data["service"], data["process"]) == ("registry", "api")
    assert "\x1b[" not in line
