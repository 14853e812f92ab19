"""The allocation commands of the qosym CLI: lottery verify, region apply (over a mock transport)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from qosym_cli import allocation_cmds
from qosym_cli.main import app

pytestmark = pytest.mark.component
REGIONS = Path(__file__).resolve().parents[4] / "deploy" / "regions"


def serve(routes: dict[tuple[str, str], httpx.Response]):
    def handler(request: httpx.Request) -> httpx.Response:
        return routes.get((request.method, request.url.path), httpx.Response(404, json={"detail": "no"}))

    def client(base_url: str, token: str | None = None) -> httpx.Client:
        return httpx.Client(base_url="http://allocation", transport=httpx.MockTransport(handler))

    return client


def test_region_apply_prints_each_field_error_and_exits_1(monkeypatch, tmp_path) -> None:
    problem = {
        "type": "validation-failed",
        "title": "Unprocessable content",
        "status": 422,
        "detail": "invalid input",
        "errors": [{"field": "voucher.months", "message": "Input should be greater than or equal to 1"}],
    }
    monkeypatch.setattr(
        allocation_cmds,
        "make_client",
        serve(
            {
                ("PUT", "/v1/regions/astana"): httpx.Response(
                    422, json=problem, headers={"content-type": "application/problem+json"}
                )
            }
        ),
    )
    runner = CliRunner()
    bad = runner.invoke(
        app, ["region", "apply", str(REGIONS / "astana.yaml"), "--url", "http://x", "--home", str(tmp_path)]
    )
    assert bad.exit_code == 1 and "voucher.months" in bad.output
    monkeypatch.setattr(
        allocation_cmds,
        "make_client",
        serve({("PUT", "/v1/regions/astana"): httpx.Response(201, json={"revision": 1})}),
    )
    good = runner.invoke(
        app, ["region", "apply", str(REGIONS / "astana.yaml"), "--url", "http://x", "--home", str(tmp_path)]
    )
    assert good.exit_code == 0 and "revision 1" in good.output
    (tmp_path / "broken.yaml").write_text("code: [unclosed")
    broken = runner.invoke(
        app, ["region", "apply", str(tmp_path / "broken.yaml"), "--url", "http://x", "--home", str(tmp_path)]
    )
    assert broken.exit_code == 1


def test_round_simulate_sends_the_weights_file_and_prints_the_answer(monkeypatch, tmp_path) -> None:
    seen: list[bytes] = []
    round_id = "0f8fad5b-d9cb-469f-a165-70867728950e"

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        if request.url.path == f"/v1/rounds/{round_id}/simulate":
            return httpx.Response(200, json={"gain": 3, "lose": 3, "by_district": {"yesil": {"gain": 3, "lose": 0}}})
        return httpx.Response(404, json={"detail": "no"})

    monkeypatch.setattr(
        allocation_cmds,
        "make_client",
        lambda base_url, token=None: httpx.Client(base_url="http://a", transport=httpx.MockTransport(handler)),
    )
    weights = tmp_path / "weights.yaml"
    weights.write_text("orphan: 200\nlarge_family: 10\n")
    result = CliRunner().invoke(
        app, ["round", "simulate", round_id, "--weights", str(weights), "--url", "http://x", "--home", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert b'"orphan": 200' in seen[0] or b'"orphan":200' in seen[0]
    assert '"gain": 3' in result.output
    missing = CliRunner().invoke(app, ["round", "simulate", "nope", "--url", "http://x", "--home", str(tmp_path)])
    assert missing.exit_code == 1
