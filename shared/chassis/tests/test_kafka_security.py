"""TLS and SASL settings reach every Kafka client the chassis and the CLI create; bad combinations refuse to load.

The clients are built, never started (no broker needed): what is checked is the keywords and attributes aiokafka
connects with (``AIOKafkaClient._security_protocol`` ..., FastStream's connection keywords and consumer builder).
"""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLOAuthBearer, SASLPlaintext, SASLScram256, SASLScram512
from opentelemetry.sdk.trace import TracerProvider
from pydantic import ValidationError

from qosym_chassis.broker import make_broker
from qosym_chassis.kafka_security import (
    TokenFileProvider,
    aiokafka_options,
    faststream_security,
)
from qosym_chassis.relay_producer import relay_producer
from qosym_chassis.settings import KafkaSettings, ServiceSettings, kafka_security_variables
from qosym_chassis.worker import lag_consumer
from qosym_cli.topics import admin_client

pytestmark = pytest.mark.unit

ENV = kafka_security_variables()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA (self-signed) and a client certificate with its key, as PEM files."""
    folder = tmp_path_factory.mktemp("pki")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "qosym-test-ca")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    files = {"ca": folder / "ca.pem", "cert": folder / "client.pem", "key": folder / "client.key"}
    files["ca"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files["key"].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return files


def settings(**values: Any) -> ServiceSettings:
    return ServiceSettings(database_url="postgresql://x@127.0.0.1/x", service_name="registry", **values)


def scram(pki: dict[str, Path], mechanism: str = "SCRAM-SHA-512") -> ServiceSettings:
    return settings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism=mechanism,
        kafka_sasl_username="qosym-registry",
        kafka_sasl_password="s3cret",
        kafka_ssl_ca_file=pki["ca"],
    )


def client_security(client: Any) -> dict[str, Any]:
    """What an aiokafka client (its AIOKafkaClient) will connect with."""
    return {
        "security_protocol": client._security_protocol,
        "ssl_context": client._ssl_context,
        "sasl_mechanism": client._sasl_mechanism,
        "sasl_plain_username": client._sasl_plain_username,
        "sasl_plain_password": client._sasl_plain_password,
        "sasl_oauth_token_provider": client._sasl_oauth_token_provider,
    }


# --- defaults and loading --------------------------------------------------------------------------------------------


def test_plaintext_is_the_default_and_adds_nothing() -> None:
    loaded = settings()

    assert loaded.kafka_security_protocol == "PLAINTEXT"
    assert faststream_security(loaded) is None
    assert aiokafka_options(loaded) == {}


def test_the_settings_load_from_the_environment(monkeypatch: pytest.MonkeyPatch, pki: dict[str, Path]) -> None:
    monkeypatch.setenv("QOSYM_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("QOSYM_KAFKA_SASL_MECHANISM", "SCRAM-SHA-256")
    monkeypatch.setenv("QOSYM_KAFKA_SASL_USERNAME", "qosym-registry")
    monkeypatch.setenv("QOSYM_KAFKA_SASL_PASSWORD", "s3cret")
    monkeypatch.setenv("QOSYM_KAFKA_SSL_CA_FILE", str(pki["ca"]))

    loaded = KafkaSettings()

    assert loaded.kafka_security_protocol == "SASL_SSL"
    assert loaded.kafka_sasl_mechanism == "SCRAM-SHA-256"
    assert loaded.kafka_ssl_ca_file == pki["ca"]
    assert "s3cret" not in repr(loaded)  # a SecretStr: never in a log line or a traceback


# --- each setting reaches the clients --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mechanism", "kind"),
    [("SCRAM-SHA-256", SASLScram256), ("SCRAM-SHA-512", SASLScram512), ("PLAIN", SASLPlaintext)],
)
async def test_sasl_with_a_password_reaches_the_broker_and_every_raw_client(
    pki: dict[str, Path], mechanism: str, kind: type[BaseSecurity]
) -> None:
    loaded = scram(pki, mechanism)

    security = faststream_security(loaded)
    assert type(security) is kind
    assert isinstance(security, SASLPlaintext | SASLScram256 | SASLScram512)
    assert (security.username, security.password, security.use_ssl) == ("qosym-registry", "s3cret", True)
    assert isinstance(security.ssl_context, ssl.SSLContext)

    broker = make_broker(loaded, TracerProvider())
    connection = broker._connection_kwargs
    assert connection["security_protocol"] == "SASL_SSL"
    assert connection["sasl_mechanism"] == mechanism
    assert (connection["sasl_plain_username"], connection["sasl_plain_password"]) == ("qosym-registry", "s3cret")
    assert isinstance(connection["ssl_context"], ssl.SSLContext)
    builder = broker.config.broker_config.builder  # the subscribers' AIOKafkaConsumer
    assert builder.keywords["security_protocol"] == "SASL_SSL"  # type: ignore[attr-defined]
    assert builder.keywords["sasl_mechanism"] == mechanism  # type: ignore[attr-defined]
    assert builder.keywords["sasl_plain_password"] == "s3cret"  # type: ignore[attr-defined]

    expected = {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": mechanism,
        "sasl_plain_username": "qosym-registry",
        "sasl_plain_password": "s3cret",
        "sasl_oauth_token_provider": None,
    }
    producer = relay_producer(loaded)
    consumer = lag_consumer(loaded)
    admin = admin_client("127.0.0.1:9092", aiokafka_options(loaded))
    for client in (producer.client, consumer._client, admin._client):
        got = client_security(client)
        assert isinstance(got.pop("ssl_context"), ssl.SSLContext)
        assert got == expected
    await consumer.stop()
    await producer.stop()
    await admin.close()


def test_faststream_and_the_raw_clients_get_the_same_keywords(pki: dict[str, Path]) -> None:
    """FastStream's own translation of the security object equals what the raw clients are given."""
    for loaded in (
        scram(pki),
        settings(kafka_security_protocol="SSL", kafka_ssl_ca_file=pki["ca"]),
        settings(
            kafka_security_protocol="SASL_PLAINTEXT",
            kafka_sasl_mechanism="PLAIN",
            kafka_sasl_username="u",
            kafka_sasl_password="p",
        ),
    ):
        translated = parse_security(faststream_security(loaded))
        raw = aiokafka_options(loaded)
        assert set(translated) == set(raw) - {"sasl_oauth_token_provider"}
        for key, value in translated.items():
            if key == "ssl_context":
                assert (value is None) == (raw[key] is None)
            else:
                assert value == raw[key], key


async def test_tls_with_a_client_certificate(pki: dict[str, Path]) -> None:
    loaded = settings(
        kafka_security_protocol="SSL",
        kafka_ssl_ca_file=pki["ca"],
        kafka_ssl_cert_file=pki["cert"],
        kafka_ssl_key_file=pki["key"],
    )

    security = faststream_security(loaded)
    assert type(security) is BaseSecurity and security.use_ssl
    context = security.ssl_context
    assert context is not None and context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
    assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "qosym-test-ca"),),)]

    broker = make_broker(loaded, TracerProvider())
    assert broker._connection_kwargs["security_protocol"] == "SSL"
    assert broker._connection_kwargs["ssl_context"] is not None
    producer = relay_producer(loaded)
    assert producer.client._security_protocol == "SSL"
    ca_certs = producer.client._ssl_context.get_ca_certs()
    assert [c["subject"] for c in ca_certs] == [((("commonName", "qosym-test-ca"),),)]
    await producer.stop()


async def test_oauthbearer_reads_its_token_file_at_each_authentication(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("first-token\n")
    loaded = settings(
        kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="OAUTHBEARER", kafka_sasl_oauth_token_file=token
    )

    assert type(faststream_security(loaded)) is SASLOAuthBearer
    broker = make_broker(loaded, TracerProvider())
    provider = broker._connection_kwargs["sasl_oauth_token_provider"]
    assert isinstance(provider, TokenFileProvider)
    assert broker._connection_kwargs["sasl_mechanism"] == "OAUTHBEARER"
    assert await provider.token() == "first-token"
    token.write_text("refreshed-token")
    assert await provider.token() == "refreshed-token"

    producer = relay_producer(loaded)
    assert producer.client._sasl_mechanism == "OAUTHBEARER"
    assert isinstance(producer.client._sasl_oauth_token_provider, TokenFileProvider)
    await producer.stop()


# --- refused at load -------------------------------------------------------------------------------------------------


def refused(**values: Any) -> str:
    with pytest.raises(ValidationError) as raised:
        settings(**values)
    return str(raised.value)


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"])
def test_sasl_without_credentials_is_refused(mechanism: str) -> None:
    message = refused(kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism=mechanism)
    assert "QOSYM_KAFKA_SASL_USERNAME and QOSYM_KAFKA_SASL_PASSWORD required" in message

    message = refused(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_mechanism=mechanism, kafka_sasl_username="u")
    assert "QOSYM_KAFKA_SASL_PASSWORD required" in message
    assert "QOSYM_KAFKA_SASL_USERNAME" not in message


def test_sasl_without_a_mechanism_is_refused() -> None:
    message = refused(kafka_security_protocol="SASL_SSL", kafka_sasl_username="u", kafka_sasl_password="p")
    assert "QOSYM_KAFKA_SASL_MECHANISM is required" in message


def test_an_unknown_protocol_or_mechanism_is_refused() -> None:
    assert "kafka_security_protocol" in refused(kafka_security_protocol="TLS")
    assert "kafka_sasl_mechanism" in refused(kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="GSSAPI")


def test_credentials_without_sasl_are_refused() -> None:
    message = refused(kafka_sasl_username="u", kafka_sasl_password="p")
    assert "QOSYM_KAFKA_SASL_USERNAME, QOSYM_KAFKA_SASL_PASSWORD set" in message
    assert "PLAINTEXT does not authenticate" in message


def test_oauthbearer_without_a_token_file_is_refused(tmp_path: Path) -> None:
    message = refused(kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="OAUTHBEARER")
    assert "QOSYM_KAFKA_SASL_OAUTH_TOKEN_FILE is required" in message
    message = refused(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="OAUTHBEARER",
        kafka_sasl_oauth_token_file=tmp_path / "absent",
    )
    assert "QOSYM_KAFKA_SASL_OAUTH_TOKEN_FILE=" in message and "no such file" in message


def test_a_missing_ca_file_is_refused(tmp_path: Path) -> None:
    message = refused(kafka_security_protocol="SSL", kafka_ssl_ca_file=tmp_path / "ca.pem")
    assert f"QOSYM_KAFKA_SSL_CA_FILE={tmp_path / 'ca.pem'}: no such file" in message


def test_a_ca_file_that_does_not_load_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "ca.pem"
    broken.write_text("not a certificate")
    message = refused(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="PLAIN",
        kafka_sasl_username="u",
        kafka_sasl_password="p",
        kafka_ssl_ca_file=broken,
    )
    assert "QOSYM_KAFKA_SSL_CA_FILE: the TLS files do not load" in message


def test_a_missing_client_key_or_a_key_without_its_certificate_is_refused(tmp_path: Path, pki: dict[str, Path]) -> None:
    message = refused(
        kafka_security_protocol="SSL", kafka_ssl_cert_file=pki["cert"], kafka_ssl_key_file=tmp_path / "absent.key"
    )
    assert "QOSYM_KAFKA_SSL_KEY_FILE=" in message and "no such file" in message
    message = refused(kafka_security_protocol="SSL", kafka_ssl_key_file=pki["key"])
    assert "QOSYM_KAFKA_SSL_KEY_FILE is set without QOSYM_KAFKA_SSL_CERT_FILE" in message


def test_tls_files_without_tls_are_refused(pki: dict[str, Path]) -> None:
    message = refused(kafka_ssl_ca_file=pki["ca"])
    assert "QOSYM_KAFKA_SSL_CA_FILE set, but QOSYM_KAFKA_SECURITY_PROTOCOL=PLAINTEXT does not use TLS" in message
    message = refused(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="PLAIN",
        kafka_sasl_username="u",
        kafka_sasl_password="p",
        kafka_ssl_ca_file=pki["ca"],
    )
    assert "SASL_PLAINTEXT does not use TLS" in message


# --- the local stack -------------------------------------------------------------------------------------------------


def stack_state(external: list[str]) -> Any:
    from qosym_cli.state import ProcessRecord, StackState

    records = {
        name: ProcessRecord(name=name, port=port, service=name.split("-")[0], role=name.split("-")[1])
        for name, port in (("registry-api", 18001), ("catalog-consumers", 18002))
    }
    return StackState(
        processes=records,
        kafka_bootstrap_servers="127.0.0.1:9092",
        database_urls={"catalog": "postgresql://x@127.0.0.1/x"},
        external=external,
    )


@pytest.mark.parametrize(("external", "kept"), [([], False), (["kafka"], True)])
def test_the_embedded_broker_gets_plaintext_and_an_external_one_the_shells_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, external: list[str], kept: bool
) -> None:
    from qosym_cli.services import KAFKA_SECURITY_VARIABLES, service_env

    monkeypatch.setenv("QOSYM_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("QOSYM_KAFKA_SASL_PASSWORD", "s3cret")
    state = stack_state(external)

    env = service_env(tmp_path, state, state.processes["catalog-consumers"])

    assert set(ENV) == set(KAFKA_SECURITY_VARIABLES)
    if kept:
        assert (env["QOSYM_KAFKA_SECURITY_PROTOCOL"], env["QOSYM_KAFKA_SASL_PASSWORD"]) == ("SASL_SSL", "s3cret")
    else:
        assert all(env[name] == "" for name in KAFKA_SECURITY_VARIABLES)  # "" is unset: PLAINTEXT
