"""TLS and SASL for every Kafka client a process creates, from the QOSYM_KAFKA_* settings (docs/security.md, "Kafka").

One source, two forms: ``faststream_security`` for FastStream's ``KafkaBroker(security=...)`` (the consumers and the
api's broker) and ``aiokafka_options`` for the raw aiokafka clients (the relay's producer, the lag probe, the
``qosym`` CLI's admin client). Both carry the same protocol, mechanism, credentials and SSL context: FastStream's
``parse_security`` turns its security object into exactly the aiokafka keywords built here (a test compares them).

- ``PLAINTEXT`` (the default, the local stack): nothing is added.
- ``SSL``: TLS, the brokers' certificates checked against ``QOSYM_KAFKA_SSL_CA_FILE`` (or the system's CAs), the
  host name checked; a client certificate (``..._CERT_FILE``, ``..._KEY_FILE``) for mutual TLS.
- ``SASL_PLAINTEXT`` / ``SASL_SSL``: ``QOSYM_KAFKA_SASL_MECHANISM`` SCRAM-SHA-256, SCRAM-SHA-512 or PLAIN with
  ``QOSYM_KAFKA_SASL_USERNAME`` and ``QOSYM_KAFKA_SASL_PASSWORD``; or OAUTHBEARER with a token file
  (``QOSYM_KAFKA_SASL_OAUTH_TOKEN_FILE``) read again at every authentication, so a token refreshed on disk (a
  projected service-account token, a sidecar) is picked up without a restart.
"""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiokafka.abc import AbstractTokenProvider
from aiokafka.helpers import create_ssl_context
from faststream.security import BaseSecurity, SASLOAuthBearer, SASLPlaintext, SASLScram256, SASLScram512

if TYPE_CHECKING:
    from qosym_chassis.settings import KafkaSettings

TLS_PROTOCOLS = frozenset({"SSL", "SASL_SSL"})
SASL_PROTOCOLS = frozenset({"SASL_PLAINTEXT", "SASL_SSL"})
PASSWORD_MECHANISMS = frozenset({"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"})


class KafkaSettingsError(ValueError):
    """A combination of QOSYM_KAFKA_* settings no client could connect with; the message names the variables."""


def check_kafka_settings(settings: KafkaSettings) -> None:
    """Refuse, naming the variable, what would fail at the first connection (or silently not protect it)."""
    protocol = settings.kafka_security_protocol
    mechanism = settings.kafka_sasl_mechanism
    if protocol in SASL_PROTOCOLS:
        if mechanism is None:
            raise KafkaSettingsError(
                f"QOSYM_KAFKA_SASL_MECHANISM is required with QOSYM_KAFKA_SECURITY_PROTOCOL={protocol} "
                "(SCRAM-SHA-256, SCRAM-SHA-512, PLAIN or OAUTHBEARER)"
            )
        if mechanism in PASSWORD_MECHANISMS:
            missing = [
                name
                for name, value in (
                    ("QOSYM_KAFKA_SASL_USERNAME", settings.kafka_sasl_username),
                    ("QOSYM_KAFKA_SASL_PASSWORD", settings.kafka_sasl_password),
                )
                if not value or (not isinstance(value, str) and not value.get_secret_value())
            ]
            if missing:
                raise KafkaSettingsError(
                    f"{' and '.join(missing)} required with QOSYM_KAFKA_SASL_MECHANISM={mechanism} "
                    f"(QOSYM_KAFKA_SECURITY_PROTOCOL={protocol})"
                )
        if mechanism == "OAUTHBEARER":
            token_file = settings.kafka_sasl_oauth_token_file
            if token_file is None:
                raise KafkaSettingsError(
                    "QOSYM_KAFKA_SASL_OAUTH_TOKEN_FILE is required with QOSYM_KAFKA_SASL_MECHANISM=OAUTHBEARER"
                )
            _must_exist("QOSYM_KAFKA_SASL_OAUTH_TOKEN_FILE", token_file)
    else:
        stray = [
            name
            for name, value in (
                ("QOSYM_KAFKA_SASL_MECHANISM", mechanism),
                ("QOSYM_KAFKA_SASL_USERNAME", settings.kafka_sasl_username),
                ("QOSYM_KAFKA_SASL_PASSWORD", settings.kafka_sasl_password),
                ("QOSYM_KAFKA_SASL_OAUTH_TOKEN_FILE", settings.kafka_sasl_oauth_token_file),
            )
            if value is not None
        ]
        if stray:
            raise KafkaSettingsError(
                f"{', '.join(stray)} set, but QOSYM_KAFKA_SECURITY_PROTOCOL={protocol} does not authenticate with "
                "SASL (use SASL_SSL or SASL_PLAINTEXT)"
            )
    tls_files = {
        "QOSYM_KAFKA_SSL_CA_FILE": settings.kafka_ssl_ca_file,
        "QOSYM_KAFKA_SSL_CERT_FILE": settings.kafka_ssl_cert_file,
        "QOSYM_KAFKA_SSL_KEY_FILE": settings.kafka_ssl_key_file,
    }
    if protocol not in TLS_PROTOCOLS:
        stray = [name for name, value in tls_files.items() if value is not None]
        if settings.kafka_ssl_key_password is not None:
            stray.append("QOSYM_KAFKA_SSL_KEY_PASSWORD")
        if stray:
            raise KafkaSettingsError(
                f"{', '.join(stray)} set, but QOSYM_KAFKA_SECURITY_PROTOCOL={protocol} does not use TLS "
                "(use SSL or SASL_SSL)"
            )
        return
    for name, path in tls_files.items():
        if path is not None:
            _must_exist(name, path)
    if settings.kafka_ssl_key_file is not None and settings.kafka_ssl_cert_file is None:
        raise KafkaSettingsError("QOSYM_KAFKA_SSL_KEY_FILE is set without QOSYM_KAFKA_SSL_CERT_FILE")
    try:
        kafka_ssl_context(settings)
    except (ssl.SSLError, OSError) as error:
        names = [name for name, value in tls_files.items() if value is not None]
        raise KafkaSettingsError(f"{', '.join(names)}: the TLS files do not load ({error})") from error


def _must_exist(name: str, path: Path) -> None:
    if not path.is_file():
        raise KafkaSettingsError(f"{name}={path}: no such file")


def kafka_ssl_context(settings: KafkaSettings) -> ssl.SSLContext | None:
    """The TLS context of SSL and SASL_SSL (host names checked), None without TLS."""
    if settings.kafka_security_protocol not in TLS_PROTOCOLS:
        return None
    password = settings.kafka_ssl_key_password
    context: ssl.SSLContext = create_ssl_context(
        cafile=settings.kafka_ssl_ca_file,
        certfile=settings.kafka_ssl_cert_file,
        keyfile=settings.kafka_ssl_key_file,
        password=password.get_secret_value() if password is not None else None,
    )
    return context


class TokenFileProvider(AbstractTokenProvider):  # type: ignore[misc]  # aiokafka.abc is untyped
    """OAUTHBEARER: the token in a file, read at every authentication (a refreshed file needs no restart)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def token(self) -> str:
        text = await asyncio.get_running_loop().run_in_executor(None, self.path.read_text)
        return text.strip()


def oauth_token_provider(settings: KafkaSettings) -> TokenFileProvider | None:
    if settings.kafka_sasl_mechanism != "OAUTHBEARER" or settings.kafka_sasl_oauth_token_file is None:
        return None
    return TokenFileProvider(settings.kafka_sasl_oauth_token_file)


def faststream_security(settings: KafkaSettings) -> BaseSecurity | None:
    """The ``security=`` of FastStream's KafkaBroker (OAUTHBEARER also needs ``sasl_oauth_token_provider=``)."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = kafka_ssl_context(settings)
    use_ssl = protocol in TLS_PROTOCOLS
    if protocol == "SSL":
        return BaseSecurity(ssl_context=context, use_ssl=True)
    mechanism = settings.kafka_sasl_mechanism
    if mechanism == "OAUTHBEARER":
        return SASLOAuthBearer(ssl_context=context, use_ssl=use_ssl)
    username = settings.kafka_sasl_username or ""
    password = settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else ""
    kind = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}[mechanism or "PLAIN"]
    return kind(username=username, password=password, ssl_context=context, use_ssl=use_ssl)


def aiokafka_options(settings: KafkaSettings) -> dict[str, Any]:
    """The same security as keywords of a raw aiokafka client (producer, consumer, admin); {} for PLAINTEXT."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return {}
    options: dict[str, Any] = {"security_protocol": protocol, "ssl_context": kafka_ssl_context(settings)}
    if protocol in SASL_PROTOCOLS:
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        if settings.kafka_sasl_mechanism == "OAUTHBEARER":
            options["sasl_oauth_token_provider"] = oauth_token_provider(settings)
        else:
            options["sasl_plain_username"] = settings.kafka_sasl_username
            password = settings.kafka_sasl_password
            options["sasl_plain_password"] = password.get_secret_value() if password is not None else None
    return options
