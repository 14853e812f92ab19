"""The ``qosym`` command prints API and validation text literally and reports a bad file argument in one line."""

from __future__ import annotations

import uuid

import jwt
import pytest
from typer.testing import CliRunner

from qosym_cli import output
from qosym_cli.main import app

pytestmark = pytest.mark.unit
UNREACHABLE = "http://127.0.0.1:9"  # nothing is asked of it: the file is refused first


def run(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "300"})


def test_a_validation_message_keeps_its_brackets(capsys) -> None:
    output.failed("districts.0.code: String should match pattern '^[a-z][a-z0-9_]{1,63}$'")

    assert "String should match pattern '^[a-z][a-z0-9_]{1,63}$'" in capsys.readouterr().out


@pytest.mark.parametrize("option", ["--weights", "--quotas"])
def test_a_missing_simulation_file_is_one_line_and_exit_1(tmp_path, option) -> None:
    result = run("round", "simulate", "r-1", option, str(tmp_path / "missing.yaml"), "--url", UNREACHABLE)

    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert lines[0] == f"✗ {option}: cannot read {tmp_path / 'missing.yaml'}: No such file or directory"


def test_an_invalid_or_unmapped_simulation_file_is_one_line(tmp_path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [1, 2\n")
    listed = tmp_path / "list.yaml"
    listed.write_text("[1, 2]\n")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00")

    results = [
        run("round", "simulate", "r-1", "--weights", str(p), "--url", UNREACHABLE) for p in (broken, listed, binary)
    ]

    assert [r.exit_code for r in results] == [1, 1, 1]
    assert all(len(r.output.strip().splitlines()) == 1 for r in results), [r.output for r in results]
    assert "is not valid YAML or JSON" in results[0].output
    assert "must hold a mapping" in results[1].output
    assert "is not valid YAML or JSON" in results[2].output


def test_a_missing_region_file_is_named_literally(tmp_path) -> None:
    missing = tmp_path / "no[such]region.yaml"

    result = run("region", "apply", str(missing), "--url", UNREACHABLE, "--home", str(tmp_path))

    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip() == f"✗ {missing}: cannot read it: No such file or directory"


def test_token_offers_only_the_valid_roles(tmp_path) -> None:
    result = run("token", "--role", "superuser", "--home", str(tmp_path))

    assert result.exit_code == 2
    assert "provider_staff" in result.output and "superuser" in result.output


def test_a_provider_staff_token_has_a_uuid_subject_stable_for_its_scope(tmp_path) -> None:
    args = ("token", "--role", "provider_staff", "--scope", "provider=p-1", "--home", str(tmp_path))
    first, again = run(*args), run(*args)
    other = run("token", "--role", "provider_staff", "--scope", "provider=p-2", "--home", str(tmp_path))

    subjects = [jwt.decode(r.output.strip(), options={"verify_signature": False})["sub"] for r in (first, again, other)]
    assert subjects[0] == subjects[1] != subjects[2]
    assert all(uuid.UUID(s) for s in subjects)
