"""The stack's state file (<home>/stack.json): ports, pids and URLs, readable from any shell."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class ProcessRecord:
    name: str
    port: int | None
    pid: int | None = None
    log: str = ""
    service: str | None = None
    role: str | None = None

    @property
    def is_service(self) -> bool:
        return self.service is not None


@dataclass
class StackState:
    processes: dict[str, ProcessRecord] = field(default_factory=dict)
    postgres_server_url: str | None = None
    redis_url: str | None = None
    kafka_bootstrap_servers: str | None = None
    kafka_idempotence: bool = False
    database_urls: dict[str, str] = field(default_factory=dict)  # as each service's app role
    migration_urls: dict[str, str] = field(default_factory=dict)  # as each service's owner role
    app_roles: dict[str, str] = field(default_factory=dict)
    external: list[str] = field(default_factory=list)

    def service_processes(self) -> list[ProcessRecord]:
        """Service processes in start order (registry first: it serves the JWKS)."""
        return [p for p in self.processes.values() if p.is_service]

    def process(self, service: str, role: str) -> ProcessRecord:
        return self.processes[f"{service}-{role}"]


def state_path(home: Path) -> Path:
    return home / "stack.json"


def load_state(home: Path) -> StackState:
    path = state_path(home)
    if not path.exists():
        return StackState()
    raw = json.loads(path.read_text())
    processes = {name: ProcessRecord(**record) for name, record in raw.pop("processes", {}).items()}
    return StackState(processes=processes, **raw)


def save_state(home: Path, state: StackState) -> None:
    home.mkdir(parents=True, exist_ok=True)
    path = state_path(home)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(asdict(state), indent=2))
    temporary.chmod(0o600)  # the URLs carry the database roles' passwords
    temporary.replace(path)
