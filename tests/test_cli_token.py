"""`qosym token`: development tokens with a role, a subject and a scope."""

from __future__ import annotations

import jwt
import pytest
from typer.testing import CliRunner

from qosym_cli.main import app

pytestmark = pytest.mark.unit


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_a_scoped_staff_token_carries_its_scope_as_claims(tmp_path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "token",
            "--role",
            "operator",
            "--scope",
            "region=astana",
            "--scope",
            "district=yesil",
            "--home",
            str(tmp_path),
        ],
    )

    assert result.exit_code == 0, result.output
    decoded = claims(result.output.strip())
    assert (decoded["role"], decoded["scope"]) == ("operator", {"region": "astana", "district": "yesil"})


def test_a_token_without_scope_has_none(tmp_path) -> None:
    result = CliRunner().invoke(app, ["token", "--role", "parent", "--subject", "p-1", "--home", str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert "scope" not in claims(result.output.strip())
    assert claims(result.output.strip())["sub"] == "p-1"


def test_a_malformed_scope_is_refused(tmp_path) -> None:
    result = CliRunner().invoke(app, ["token", "--role", "operator", "--scope", "astana", "--home", str(tmp_path)])

    assert result.exit_code != 0
    assert "KEY=VALUE" in result.output


def test_an_operator_token_without_a_region_is_refused(tmp_path) -> None:
    result = CliRunner().invoke(
        app, ["token", "--role", "operator", "--scope", "district=yesil", "--home", str(tmp_path)]
    )

    assert result.exit_code != 0
    assert "region" in result.output
