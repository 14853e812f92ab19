"""The embedded local stack: servers, databases, migrations, topics, service processes, demo data.

Each step is a method usable on its own (tests drive them one by one); ``<home>/stack.json``
remembers ports, pids and URLs so another shell can stop, inspect or follow the stack.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from qosym_chassis import roles
from qosym_cli import servers
from qosym_cli.config import ExternalServers, database_url
from qosym_cli.errors import StackError
from qosym_cli.health import ProcessMetrics, is_ready, read_metrics
from qosym_cli.paths import FRONTEND_ROLE, FRONTENDS, SERVICES, default_home, demo_file, regions_dir, roles_of
from qosym_cli.ports import HOST, accepts_connections, reuse_or_pick
from qosym_cli.processes import runs_command, stop_all, tail
from qosym_cli.seeding import SeedResult, seed_regions
from qosym_cli.services import start_service_process
from qosym_cli.state import ProcessRecord, StackState, load_state, parse_name, replica_name, save_state
from qosym_cli.tokens import keys_dir, mint_token, role_password
from qosym_contracts.topics import ALL_TOPICS

SERVERS: tuple[str, ...] = ("postgres", "redis", "kafka", "mail")
SERVER_MARKERS: dict[str, str] = {
    "postgres": "postgres",
    "redis": "redis-server",
    "kafka": "broker",
    "mail": "qosym_cli.mailcatcher",
}


REPLICATED_ROLE = "consumers"
"""The role ``qosym up --replicas SERVICE=N`` multiplies: N members of the service's consumer group."""
MAX_REPLICAS = max(topic.partitions for topic in ALL_TOPICS)


class ReplicasError(StackError):
    """A --replicas setting names no consuming service or an impossible count."""


def parse_replicas(settings: list[str], services: tuple[str, ...]) -> dict[str, int]:
    """``["payments=2", "catalog=3"]`` → ``{"payments": 2, "catalog": 3}``; a service named twice keeps the last."""
    replicas: dict[str, int] = {}
    for setting in settings:
        service, sep, count = setting.partition("=")
        service = service.strip()
        if not sep or not count.strip().isdigit():
            raise ReplicasError(f"--replicas takes SERVICE=N (e.g. payments=2), not {setting!r}")
        if service not in services or REPLICATED_ROLE not in roles_of(service):
            consuming = ", ".join(s for s in services if REPLICATED_ROLE in roles_of(s))
            raise ReplicasError(f"--replicas: {service!r} is not a service with consumers; choose from: {consuming}")
        n = int(count)
        if not 1 <= n <= MAX_REPLICAS:
            raise ReplicasError(
                f"--replicas {service}={n}: between 1 and {MAX_REPLICAS} (the most partitions of a topic; "
                "a member beyond its topics' partitions would sit idle)"
            )
        replicas[service] = n
    return replicas


class ReadinessError(StackError):
    """A service process did not become ready in time (or exited)."""


@dataclass(frozen=True)
class ProcessStatus:
    name: str
    pid: int | None
    port: int | None
    healthy: bool
    detail: str
    metrics: ProcessMetrics = field(default_factory=ProcessMetrics)


class LocalStack:
    def __init__(
        self,
        home: Path | None = None,
        *,
        external: ExternalServers | None = None,
        services: tuple[str, ...] = SERVICES,
        frontends: tuple[str, ...] = FRONTENDS,
        replicas: dict[str, int] | None = None,
    ) -> None:
        self.home = (home or default_home()).expanduser().resolve()
        self.external = external if external is not None else ExternalServers.from_env()
        self.services = services
        self.frontends = frontends
        self.state: StackState = load_state(self.home)
        if replicas is not None:  # else what the last `up` chose (the state file remembers it)
            self.state.replicas = {**self.state.replicas, **replicas}

    # --- bookkeeping ------------------------------------------------------------------------------

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    def log_path(self, name: str) -> Path:
        return self.logs_dir / f"{name}.log"

    def save(self) -> None:
        save_state(self.home, self.state)

    def reload(self) -> StackState:
        self.state = load_state(self.home)
        return self.state

    def is_running(self, record: ProcessRecord) -> bool:
        if record.service is not None:
            return runs_command(record.pid, "-m", record.service, str(record.role))
        if record.name == "postgres":
            return servers.postgres_pid(self.home) is not None
        return runs_command(record.pid, SERVER_MARKERS[record.name])

    def embedded_servers(self) -> list[str]:
        wanted = []
        if self.external.needs_postgres:
            wanted.append("postgres")
        if self.external.redis_url is None:
            wanted.append("redis")
        if self.external.kafka_bootstrap_servers is None:
            wanted.append("kafka")
        wanted.append("mail")  # the local mail catcher: notifications' e-mails land in <home>/mail/
        return wanted

    # --- planning --------------------------------------------------------------------------------

    def plan(self) -> StackState:
        """Give every process a port (its previous one when still free or still ours) and fix the URLs."""
        previous = self.state.processes
        processes = (*self.services, *self.frontends)
        names = [
            *self.embedded_servers(),
            *(name for s in processes for r in roles_of(s) for name in self._names(s, r)),
        ]
        taken: set[int] = set()
        planned: dict[str, ProcessRecord] = {}
        running_postgres = servers.postgres_port(self.home)
        if "postgres" in names and running_postgres is not None:
            taken.add(running_postgres)
            planned["postgres"] = self._new_record("postgres", running_postgres)
        for name in names:
            old = previous.get(name)
            if name not in planned and old is not None and old.port is not None and self.is_running(old):
                taken.add(old.port)
                planned[name] = old
        for name in names:
            if name in planned:
                continue
            old = previous.get(name)
            port = reuse_or_pick(old.port if old else None, taken)
            planned[name] = self._new_record(name, port)
        self._stop_dropped(previous, planned)
        self.state.processes = planned
        self._plan_urls()
        self.save()
        return self.state

    def replicas(self, service: str) -> int:
        """How many consumers processes ``service`` runs (1 unless ``qosym up --replicas SERVICE=N`` said more)."""
        return max(1, self.state.replicas.get(service, 1))

    def _names(self, service: str, role: str) -> list[str]:
        count = self.replicas(service) if role == REPLICATED_ROLE else 1
        return [replica_name(service, role, replica) for replica in range(1, count + 1)]

    def _stop_dropped(self, previous: dict[str, ProcessRecord], planned: dict[str, ProcessRecord]) -> None:
        """Stop what the previous run started and this one no longer wants (it would be orphaned)."""
        dropped = [r for name, r in previous.items() if name not in planned and self.is_running(r)]
        for record in dropped:
            if record.name == "postgres":
                servers.stop_postgres(self.home)
            else:
                stop_all([int(record.pid or 0)], timeout_s=10.0)

    def _new_record(self, name: str, port: int) -> ProcessRecord:
        log = str(self.log_path(name))
        parsed = parse_name(name)
        if parsed is None:
            return ProcessRecord(name=name, port=port, log=log)
        service, role, _ = parsed
        return ProcessRecord(name=name, port=port, log=log, service=service, role=role)

    def _plan_urls(self) -> None:
        processes = self.state.processes
        external = self.external
        self.state.external = [s for s in SERVERS if s not in processes]
        self.state.kafka_idempotence = external.kafka_idempotence
        self.state.kafka_bootstrap_servers = external.kafka_bootstrap_servers or (f"{HOST}:{processes['kafka'].port}")
        self.state.redis_url = external.redis_url or f"redis://{HOST}:{processes['redis'].port}/0"
        if external.postgres_server_url:
            self.state.postgres_server_url = external.postgres_server_url
        elif "postgres" in processes:
            self.state.postgres_server_url = servers.postgres_server_url(
                int(processes["postgres"].port or 0), self.home
            )
        else:
            self.state.postgres_server_url = None
        self.state.database_urls, self.state.migration_urls, self.state.app_roles = {}, {}, {}
        for service in self.services:
            self._plan_database(service)

    def _plan_database(self, service: str) -> None:
        """A managed database: the app role's URL for the processes, the owner role's for migrations. An explicit
        QOSYM_<SERVICE>_DATABASE_URL is used as given (QOSYM_<SERVICE>_MIGRATION_DATABASE_URL and
        QOSYM_<SERVICE>_DATABASE_APP_ROLE say how to migrate it; see the root README)."""
        explicit = self.external.database_urls.get(service)
        if explicit:
            self.state.database_urls[service] = explicit
            self.state.migration_urls[service] = self.external.migration_urls.get(service, explicit)
            if service in self.external.app_roles:
                self.state.app_roles[service] = self.external.app_roles[service]
            return
        assert self.state.postgres_server_url is not None
        base = database_url(self.state.postgres_server_url, service)
        owner, app = roles.owner_role(service), roles.app_role(service)
        self.state.database_urls[service] = roles.with_credentials(base, app, role_password(self.home, app))
        self.state.migration_urls[service] = roles.with_credentials(base, owner, role_password(self.home, owner))
        self.state.app_roles[service] = app

    # --- servers ---------------------------------------------------------------------------------

    def start_servers(self) -> list[str]:
        """Start the embedded servers not already running; return a line per server."""
        if not self.state.processes:
            self.plan()
        self.home.mkdir(parents=True, exist_ok=True)
        lines = []
        for name in SERVERS:
            record = self.state.processes.get(name)
            if record is None:
                lines.append(f"{name}: external")
                continue
            if self.is_running(record):
                lines.append(f"{name}: already running on port {record.port}")
                continue
            record.pid = self._start_server(name, int(record.port or 0))
            self.save()
            lines.append(f"{name}: started on port {record.port}")
        return lines

    def _start_server(self, name: str, port: int) -> int:
        if name == "postgres":
            return servers.start_postgres(self.home, port)
        if name == "redis":
            return servers.start_redis(self.home, port)
        if name == "mail":
            return servers.start_mail(self.home, port)
        return servers.start_kafka(self.home, port)

    # --- databases, migrations, topics -----------------------------------------------------------

    def create_databases(self) -> list[str]:
        managed = [s for s in self.services if s not in self.external.database_urls]
        if not managed:
            return []
        assert self.state.postgres_server_url is not None
        from qosym_cli.databases import ensure_databases  # asyncpg on demand keeps `qosym status` quick

        passwords = {
            role: role_password(self.home, role)
            for service in managed
            for role in (roles.owner_role(service), roles.app_role(service))
        }
        return asyncio.run(ensure_databases(self.state.postgres_server_url, managed, passwords))

    def run_migrations(self) -> None:
        from qosym_cli.databases import migrate

        def one(service: str) -> None:
            url = self.state.migration_urls.get(service) or self.state.database_urls[service]
            migrate(service, url, self.log_path(f"{service}-migrate"), self.state.app_roles.get(service))

        with ThreadPoolExecutor(max_workers=len(self.services) or 1) as pool:
            for future in [pool.submit(one, service) for service in self.services]:
                future.result()

    def create_topics(self) -> list[str]:
        assert self.state.kafka_bootstrap_servers is not None
        from qosym_cli.topics import ensure_topics  # aiokafka on demand keeps `qosym status` quick

        security: dict[str, Any] = {}
        if "kafka" in self.state.external:  # an external broker: TLS and SASL as the services get them
            from qosym_chassis.kafka_security import aiokafka_options
            from qosym_chassis.settings import KafkaSettings

            security = aiokafka_options(KafkaSettings())
        return asyncio.run(ensure_topics(self.state.kafka_bootstrap_servers, security=security))

    # --- services --------------------------------------------------------------------------------

    def start_services(self) -> list[str]:
        """Start each service process not already running; return the names started now."""
        keys_dir(self.home).mkdir(parents=True, exist_ok=True)
        mint_token(self.home, "administrator", "qosym-cli")  # creates the signing key before anyone reads it
        started = []
        for record in self.state.service_processes():
            if self.is_running(record):
                continue
            record.pid = start_service_process(self.home, self.state, record)
            started.append(record.name)
        self.save()
        return started

    def wait_until_ready(
        self, timeout_s: float = 180.0, on_progress: Callable[[list[str]], None] | None = None
    ) -> None:
        waiting = {record.name: record for record in self.state.service_processes()}
        deadline = time.monotonic() + timeout_s
        while waiting:
            for name, record in list(waiting.items()):
                if not self.is_running(record):
                    raise ReadinessError(self._failure(record, "exited before becoming ready"))
                if is_ready(int(record.port or 0), timeout_s=1.0):
                    del waiting[name]
            if on_progress is not None:
                on_progress(sorted(waiting))
            if not waiting:
                return
            if time.monotonic() > deadline:
                first = waiting[sorted(waiting)[0]]
                still = ", ".join(sorted(waiting))
                raise ReadinessError(self._failure(first, f"not ready after {timeout_s:.0f} s (waiting: {still})"))
            time.sleep(0.5)

    def _failure(self, record: ProcessRecord, what: str) -> str:
        return f"{record.name} {what}. Last lines of {record.log}:\n{tail(Path(record.log), 30)}"

    def api_url(self, service: str) -> str:
        return f"http://{HOST}:{self.state.process(service, 'api').port}"

    def frontend_url(self, frontend: str = "portal") -> str:
        """Where a web frontend (the portal) is opened in a browser."""
        return f"http://{HOST}:{self.state.process(frontend, FRONTEND_ROLE).port}"

    # --- demo data -------------------------------------------------------------------------------

    def seed_demo_data(self, folder: Path | None = None, demo: Path | None = None) -> list[SeedResult]:
        """The demo regions; then, once they are all configured, demo providers, open rounds and a family."""
        token = mint_token(self.home, "administrator", "qosym-cli")
        results = seed_regions(self.api_url("allocation"), token, folder or regions_dir())
        wanted = ("registry", "allocation", "catalog")
        if not all(r.ok for r in results) or not all(s in self.services for s in wanted):
            return results
        from qosym_cli.demo import DemoApis, load_demo, seed_demo

        def mint(role: str, subject: str | None = None, scope: dict[str, str] | None = None) -> str:
            return mint_token(self.home, role, subject or "qosym-demo", scope=scope)

        apis = DemoApis(*(self.api_url(service) for service in wanted))
        staff_file = self.demo_staff_file()
        return results + seed_demo(apis, mint, load_demo(demo or demo_file()), date.today(), staff_file)

    def demo_staff_file(self) -> Path:
        """Where the demo staff accounts' generated passwords and TOTP secrets are written (mode 0600)."""
        return self.home / "demo-staff.md"

    # --- stop ------------------------------------------------------------------------------------

    def stop(self) -> list[str]:
        """Stop every recorded process (services first, then the servers); return what was stopped. What another
        command recorded since this object read the state (a process `qosym chaos` restarted, a replica) is stopped
        too: the state file's records count as well as these."""
        states = [self.state, *([load_state(self.home)] if self.state_file_exists() else [])]
        running = {int(r.pid): r for state in states for r in state.service_processes() if r.pid and self.is_running(r)}
        stopped = sorted({r.name for r in running.values()})
        stop_all(sorted(running), timeout_s=10.0)
        for name in ("mail", "kafka", "redis"):
            records = {r.pid: r for state in states if (r := state.processes.get(name)) is not None and r.pid}
            for record in records.values():
                if self.is_running(record):
                    servers.stop_process(record.pid)
                    if name not in stopped:
                        stopped.append(name)
        if servers.postgres_pid(self.home) is not None:
            servers.stop_postgres(self.home)
            stopped.append("postgres")
        for record in self.state.processes.values():
            record.pid = None
        if self.state_file_exists():
            self.save()
        return stopped

    def state_file_exists(self) -> bool:
        return (self.home / "stack.json").exists()

    def wipe(self) -> None:
        self.stop()
        servers.wipe(self.home)
        self.state = StackState()

    # --- status ----------------------------------------------------------------------------------

    def status(self) -> list[ProcessStatus]:
        rows = [self._server_status(name) for name in SERVERS]
        rows += [self._service_status(record) for record in self.state.service_processes()]
        return rows

    def _server_status(self, name: str) -> ProcessStatus:
        record = self.state.processes.get(name)
        if record is None:
            host, port = self._external_address(name)
            healthy = host is not None and port is not None and accepts_connections(host, port)
            return ProcessStatus(name, None, port, healthy, "external " + ("up" if healthy else "unreachable"))
        pid = servers.postgres_pid(self.home) if name == "postgres" else record.pid
        running = self.is_running(record)
        healthy = running and accepts_connections(HOST, int(record.port or 0))
        return ProcessStatus(name, pid if running else None, record.port, healthy, _word(healthy, running))

    def _external_address(self, name: str) -> tuple[str | None, int | None]:
        url = {
            "postgres": self.state.postgres_server_url or next(iter(self.state.database_urls.values()), None),
            "redis": self.state.redis_url,
            "kafka": f"kafka://{(self.state.kafka_bootstrap_servers or '').split(',')[0]}",
            "mail": None,  # always embedded; a stack planned before it existed has no record yet
        }[name]
        if not url:
            return None, None
        parsed = urlparse(url)
        try:
            return parsed.hostname, parsed.port
        except ValueError:
            return parsed.hostname, None

    def _service_status(self, record: ProcessRecord) -> ProcessStatus:
        running = self.is_running(record)
        port = int(record.port or 0)
        healthy = running and is_ready(port)
        metrics = _role_metrics(record.role, read_metrics(port)) if running else ProcessMetrics()
        return ProcessStatus(
            record.name,
            record.pid if running else None,
            record.port,
            healthy,
            _word(healthy, running),
            metrics,
        )

    def all_healthy(self) -> bool:
        return all(row.healthy for row in self.status())


def _word(healthy: bool, running: bool) -> str:
    if healthy:
        return "ready"
    return "not ready" if running else "stopped"


def _role_metrics(role: str | None, metrics: ProcessMetrics) -> ProcessMetrics:
    """Keep the gauges that process owns: lag, dead letters and parked events for consumers, backlog for the relay."""
    if role == "consumers":
        return ProcessMetrics(
            consumer_lag=metrics.consumer_lag,
            dead_letters=metrics.dead_letters,
            parked=metrics.parked,
            parked_overdue=metrics.parked_overdue,
        )
    if role == "relay":
        return ProcessMetrics(outbox_backlog=metrics.outbox_backlog)
    return ProcessMetrics()
