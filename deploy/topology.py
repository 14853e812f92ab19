"""What runs where: the services of the repository, their process roles and their topics, read from the code.

`deploy/render.py` writes deploy/compose/ and deploy/k8s/ from this; tests/deploy checks the files are current.
Nothing here is typed twice: services are the folders of services/, the topics and their partitions are
qosym_contracts.topics, what a service consumes is what its `entrypoints/consumers.register` subscribes to.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from qosym_chassis.consumer import EventConsumer
from qosym_chassis.context import ServiceContext
from qosym_chassis.db import make_engine, make_session_factory
from qosym_contracts.topics import ALL_TOPICS, Topic

REPO = Path(__file__).resolve().parents[1]
PORT = 8000  # every process listens on QOSYM_PORT inside its own container or pod
DAY_MS = 24 * 3600 * 1000

# reference data a partner joining late must still see whole: compacted, kept forever (docs/operations.md, "Deploy")
REFERENCE_TOPICS = frozenset({"allocation.region.v1", "catalog.provider.v1", "catalog.programme.v1"})
EVENT_RETENTION_MS = 30 * DAY_MS  # four times the outbox's replay window (7 days): replays after a broker loss fit
REPLICAS = 3
MIN_INSYNC_REPLICAS = 2


FRONTENDS = frozenset({"portal"})  # qosym_cli.paths.FRONTENDS: no database, no events, one `web` process
PORTAL_ROLE = "web"


def portal_api_urls(api_url: dict[str, str]) -> dict[str, str]:
    """``QOSYM_<SERVICE>_URL`` for each service the portal calls, read from its settings (portal.config)."""
    from portal.config import PortalSettings

    names = [name for name in PortalSettings.model_fields if name.endswith("_url")]
    return {f"QOSYM_{name.upper()}": api_url[name.removesuffix("_url")] for name in names}


def services() -> list[str]:
    return sorted(p.parent.name for p in (REPO / "services").glob("*/pyproject.toml") if p.parent.name not in FRONTENDS)


def publishes(service: str) -> list[Topic]:
    return [topic for topic in ALL_TOPICS if topic.producer == service]


def processes(service: str) -> list[str]:
    """The long-running roles: a service that publishes nothing has no relay (its outbox stays empty)."""
    return ["api", "consumers", *(["relay"] if publishes(service) else [])]


def consumed_topics(service: str) -> list[str]:
    engine = make_engine("postgresql://deploy@127.0.0.1/none", application_name="deploy")  # never connects
    consumer = EventConsumer(service=service, engine=engine, session_factory=make_session_factory(engine))
    importlib.import_module(f"{service}.entrypoints.consumers").register(consumer, cast(ServiceContext, None))
    return consumer.topics


def max_consumers(service: str) -> int:
    """A group member beyond the partitions of its busiest topic would sit idle."""
    partitions = {topic.name: topic.partitions for topic in ALL_TOPICS}
    return max([partitions[name] for name in consumed_topics(service)] or [1])


CONSUMER_REPLICAS = 2
"""Consumers processes per service in production (compose ``deploy.replicas``, overridable per service with
``QOSYM_<SERVICE>_CONSUMER_REPLICAS`` in .env; the k8s Deployment's replicas and its autoscaler's floor): two members
of the service's group share its partitions, and one takes over the other's within a rebalance when it stops.
``qosym up --replicas SERVICE=N`` is the same setting locally (docs/operations.md, "Consumer replicas")."""


def consumer_replicas(service: str) -> int:
    """Never more members than the busiest consumed topic has partitions (the others would sit idle)."""
    return min(CONSUMER_REPLICAS, max_consumers(service))


def consumer_replicas_variable(service: str) -> str:
    return f"QOSYM_{service.upper()}_CONSUMER_REPLICAS"


@dataclass(frozen=True)
class TopicPolicy:
    name: str
    partitions: int
    replicas: int
    config: dict[str, str | int]


def topic_policy(topic: Topic) -> TopicPolicy:
    compacted = topic.name in REFERENCE_TOPICS
    config: dict[str, str | int] = {
        "cleanup.policy": "compact" if compacted else "delete",
        "retention.ms": -1 if compacted else EVENT_RETENTION_MS,
        "min.insync.replicas": MIN_INSYNC_REPLICAS,
    }
    return TopicPolicy(topic.name, topic.partitions, REPLICAS, config)


def database(service: str) -> str:
    return f"qosym_{service}"


def secret_variable(service: str, what: str) -> str:
    """The .env variable (compose) holding one of a service's secrets, e.g. REGISTRY_APP_DB_PASSWORD."""
    return f"{service.upper()}_{what}"


# settings that are secrets: never in a file of the repository, read from .env (compose) or a cluster Secret (k8s)
SECRET_SETTINGS: dict[str, tuple[str, ...]] = {
    "registry": ("QOSYM_AUDIT_MAC_KEY", "QOSYM_SMS_GATEWAY_TOKEN", "QOSYM_STATE_REGISTRY_TOKEN"),
    "payments": ("QOSYM_AUDIT_MAC_KEY", "QOSYM_TREASURY_ACCOUNTS"),
    "notifications": ("QOSYM_SMTP_PASSWORD", "QOSYM_SMS_GATEWAY_TOKEN"),
    "insights": ("QOSYM_CHILD_KEY_SALT",),
}


# secrets whose development default must never reach production: compose refuses to start without them
REQUIRED_SECRETS = frozenset({"QOSYM_CHILD_KEY_SALT"})


def plain_settings(service: str, api_url: dict[str, str], public_origin: str) -> dict[str, str]:
    """Settings of one service that are not secrets (beyond the common ones of every process)."""
    extra: dict[str, dict[str, str]] = {
        "payments": {"QOSYM_ALLOCATION_URL": api_url["allocation"], "QOSYM_ATTENDANCE_URL": api_url["attendance"]},
        "notifications": {
            "QOSYM_EXPLANATION_URL": f"{public_origin}/allocation/v1/applications/{{application_id}}/explanation"
        },
        "registry": {"QOSYM_EVIDENCE_DIR": "/var/lib/qosym/evidence"},
    }
    return extra.get(service, {})
