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
    replicas: dict[str, int] = field(default_factory=dict)  # consumers processes per service (`up --replicas`)

    def service_processes(self) -> list[ProcessRecord]:
        """Service processes in start order (registry first: it serves the JWKS)."""
        return [p for p in self.processes.values() if p.is_service]

    def process(self, service: str, role: str) -> ProcessRecord:
        return self.processes[f"{service}-{role}"]

    def replicas_of(self, service: str, role: str) -> list[ProcessRecord]:
        """Every process of one role of a service: ``payments-consumers``, ``payments-consumers-2`` ..."""
        return [p for p in self.processes.values() if p.service == service and p.role == role]


def replica_name(service: str, role: str, replica: int) -> str:
    """The first replica keeps the plain name (``payments-consumers``); the others are numbered from 2."""
    return f"{service}-{role}" if replica <= 1 else f"{service}-{role}-{replica}"


def parse_name(name: str) -> tuple[str, str, int] | None:
    """(service, role, replica) of a service process's name; None for a server (``postgres``, ``kafka`` ...)."""
    parts = name.split("-")
    if len(parts) == 2:
        return parts[0], parts[1], 1
    if len(parts) == 3 and parts[2].isdigit() and int(parts[2]) >= 2:
        return parts[0], parts[1], int(parts[2])
    return None


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
