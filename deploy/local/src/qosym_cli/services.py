"""The service processes: api, consumers and relay of each service, started detached."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from qosym_chassis.settings import kafka_security_variables
from qosym_cli.paths import FRONTENDS, SERVICES
from qosym_cli.ports import HOST
from qosym_cli.processes import spawn_detached
from qosym_cli.state import ProcessRecord, StackState
from qosym_cli.tokens import keys_dir


def jwks_url(state: StackState) -> str:
    return f"http://{HOST}:{state.process('registry', 'api').port}/.well-known/jwks.json"


def sms_gateway_url(state: StackState) -> str:
    """Notifications' development SMS gateway stand-in: codes reach the person's inbox through the real client."""
    return f"http://{HOST}:{state.process('notifications', 'api').port}/dev/sms-gateway"


def api_url(state: StackState, service: str) -> str:
    """A service's API base URL, or "" when it is not part of this stack (the setting's default then applies)."""
    record = state.processes.get(f"{service}-api")
    return f"http://{HOST}:{record.port}" if record else ""


def notifications_env(state: StackState) -> dict[str, str]:
    """E-mail goes to the local mail catcher (unless QOSYM_SMTP_HOST names a real server); links to allocation."""
    mail, allocation = state.processes.get("mail"), state.processes.get("allocation-api")
    env = {}
    if allocation is not None:
        explanation = f"http://{HOST}:{allocation.port}/v1/applications/{{application_id}}/explanation"
        env["QOSYM_EXPLANATION_URL"] = explanation
    if mail is not None and not os.environ.get("QOSYM_SMTP_HOST"):
        env.update({"QOSYM_SMTP_HOST": HOST, "QOSYM_SMTP_PORT": str(mail.port)})
    return env


def partners_env() -> dict[str, str]:
    """Webhooks retry within seconds on the local stack (production waits 30 s, doubling, 8 attempts), unless the
    shell sets QOSYM_WEBHOOK_*: a failing endpoint's delivery is dead-lettered while one watches."""
    defaults = {"QOSYM_WEBHOOK_MAX_ATTEMPTS": "3", "QOSYM_WEBHOOK_BACKOFF_BASE_S": "1", "QOSYM_WEBHOOK_TIMEOUT_S": "5"}
    return {name: os.environ.get(name) or value for name, value in defaults.items()}


def api_workers(service: str, environ: dict[str, str] | None = None) -> str:
    """A service's API worker processes: ``QOSYM_<SERVICE>_API_WORKERS``, else ``QOSYM_API_WORKERS``, else 1."""
    env = os.environ if environ is None else environ
    return env.get(f"QOSYM_{service.upper()}_API_WORKERS") or env.get("QOSYM_API_WORKERS") or "1"


def frontend_env(home: Path, state: StackState, record: ProcessRecord) -> dict[str, str]:
    """A web frontend (the portal): no database, no broker; the services' API URLs, its port and the keys folder
    (its session-cookie key is generated there on first run)."""
    assert record.service is not None
    urls = {f"QOSYM_{service.upper()}_URL": api_url(state, service) for service in SERVICES}
    return {
        **os.environ,
        "QOSYM_SERVICE_NAME": record.service,
        "QOSYM_PORT": str(record.port),
        "QOSYM_KEYS_DIR": str(keys_dir(home)),
        "QOSYM_DEV_MODE": "true",
        "QOSYM_LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
        **{name: url for name, url in urls.items() if url},
    }


# TLS and SASL of an external broker (qosym_chassis.settings.KafkaSettings); "" is unset (env_ignore_empty)
KAFKA_SECURITY_VARIABLES = kafka_security_variables()  # blanked: the local broker is plaintext


def service_env(home: Path, state: StackState, record: ProcessRecord) -> dict[str, str]:
    assert record.service is not None
    assert record.role is not None
    if record.service in FRONTENDS:
        return frontend_env(home, state, record)
    traces = home / "traces" / f"{record.name}.jsonl"  # a replica has a file of its own
    extra = {"QOSYM_SMS_GATEWAY_URL": sms_gateway_url(state)} if record.service == "registry" else {}
    if record.service == "payments":  # reconciliation reads allocation's vouchers and attendance's timesheets
        extra = {
            "QOSYM_ALLOCATION_URL": api_url(state, "allocation"),
            "QOSYM_ATTENDANCE_URL": api_url(state, "attendance"),
        }
    if record.service == "notifications":
        extra = notifications_env(state)
    if record.service == "partners":
        extra = partners_env()
    if record.role == "api":
        extra = {**extra, "QOSYM_API_WORKERS": api_workers(record.service)}
    if "kafka" not in state.external:  # the embedded tansu speaks PLAINTEXT whatever the shell's QOSYM_KAFKA_* say
        extra = {**extra, **{name: "" for name in KAFKA_SECURITY_VARIABLES}}
    return {
        **os.environ,
        "QOSYM_SERVICE_NAME": record.service,
        "QOSYM_DATABASE_URL": state.database_urls[record.service],
        "QOSYM_KAFKA_BOOTSTRAP_SERVERS": state.kafka_bootstrap_servers or "",
        "QOSYM_KAFKA_IDEMPOTENCE": "true" if state.kafka_idempotence else "false",
        "QOSYM_REDIS_URL": state.redis_url or "",
        "QOSYM_PORT": str(record.port),
        "QOSYM_JWKS_URL": jwks_url(state),
        "QOSYM_KEYS_DIR": str(keys_dir(home)),
        "QOSYM_AUDIT_HEAD_DIR": os.environ.get("QOSYM_AUDIT_HEAD_DIR") or str(home / "audit-heads"),
        "QOSYM_DEV_MODE": "true",
        "QOSYM_OTEL_TRACES_FILE": str(traces),
        "QOSYM_LOG_LEVEL": "INFO",
        "QOSYM_CORS_ORIGINS": '["http://127.0.0.1:8080"]',
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def start_service_process(home: Path, state: StackState, record: ProcessRecord) -> int:
    (home / "traces").mkdir(parents=True, exist_ok=True)
    assert record.service is not None
    assert record.role is not None
    command = [sys.executable, "-m", record.service, record.role]
    return spawn_detached(command, Path(record.log), env=service_env(home, state, record))
