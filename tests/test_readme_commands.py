"""The README's two commands are the contract with a newcomer; CI must run the test one exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    lines = (ROOT / "README.md").read_text().splitlines()
    start = lines.index("```bash")
    block = lines[start + 1 : lines.index("```", start + 1)]
    return [line for line in block if line and not line.startswith("#")]


def test_the_readme_starts_with_the_up_command_and_the_test_command() -> None:
    up, tests = readme_commands()
    assert up.endswith("qosym up")
    assert tests.endswith("pytest")


def test_ci_runs_the_readme_test_command_exactly() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in ci
