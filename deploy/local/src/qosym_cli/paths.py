"""Where the repository and the stack's data directory are."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import qosym_cli

SERVICES: tuple[str, ...] = (
    "registry",
    "allocation",
    "catalog",
    "attendance",
    "payments",
    "notifications",
    "insights",
    "conversations",
    "partners",
)
ROLES: tuple[str, ...] = ("api", "consumers", "relay")
PUBLISHES_NOTHING: tuple[str, ...] = ("insights", "partners")
"""Services with no outbox to relay: they run an api and consumers only."""
FRONTENDS: tuple[str, ...] = ("portal",)
"""Web frontends (services/<name>): no database, no events; one ``web`` process calling the services' public APIs.
They are not in SERVICES, so migrations, topics, checks and replays never look for their database or inbox."""
FRONTEND_ROLE = "web"


def roles_of(service: str) -> tuple[str, ...]:
    """The processes a service (or a frontend) runs."""
    if service in FRONTENDS:
        return (FRONTEND_ROLE,)
    return tuple(r for r in ROLES if not (r == "relay" and service in PUBLISHES_NOTHING))


def _is_workspace_root(folder: Path) -> bool:
    pyproject = folder / "pyproject.toml"
    if not pyproject.is_file():
        return False
    try:
        data = tomllib.loads(pyproject.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return False
    return "workspace" in data.get("tool", {}).get("uv", {})


def repo_root(start: Path | None = None) -> Path:
    """The nearest folder above ``start`` (default: cwd) that is the uv workspace root."""
    package = Path(qosym_cli.__file__).resolve().parent  # <repo>/deploy/local/src/qosym_cli
    for here in ((start or Path.cwd()).resolve(), package):
        for folder in (here, *here.parents):
            if _is_workspace_root(folder):
                return folder
    return package.parents[3]


def default_home() -> Path:
    configured = os.environ.get("QOSYM_HOME")
    if configured:
        return Path(configured).expanduser().resolve()
    return repo_root() / ".qosym"


def regions_dir() -> Path:
    return repo_root() / "deploy" / "regions"


def demo_file() -> Path:
    return repo_root() / "deploy" / "demo" / "demo.yaml"
