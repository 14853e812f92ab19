"""Composition root of the registry: the only place that constructs adapters (docs/architecture.md, "Service anatomy")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from qosym_chassis.context import ServiceContext
from qosym_chassis.keys import load_or_create_secret
from qosym_chassis.protection import IinProtector
from registry.adapters.credentials import SecretBox
from registry.adapters.evidence import EvidenceStore
from registry.adapters.limits import Limiter
from registry.adapters.pending import PendingRegistrations
from registry.adapters.sms import BackgroundSms, HttpSmsGateway, LogSms, SmsSender
from registry.adapters.state_registry import FileStateRegistry, HttpStateRegistry, StateRegistry
from registry.adapters.tokens import TokenIssuer, load_keys
from registry.config import RegistrySettings
from registry.domain.login_limits import Limits
from registry.domain.people import OTP_MAX_ATTEMPTS
from registry.service_layer.dependencies import Dependencies


@dataclass(frozen=True)
class Registry:
    """The bootstrapped service: what the entrypoints receive."""

    settings: RegistrySettings
    context: ServiceContext
    deps: Dependencies

    @property
    def sms(self) -> SmsSender:
        return self.deps.sms

    @property
    def outgoing_sms(self) -> BackgroundSms:
        return self.deps.outgoing_sms


def _limits(settings: RegistrySettings) -> Limits:
    return Limits(
        otp_requests_per_iin=settings.otp_requests_per_iin,
        otp_requests_per_address=settings.otp_requests_per_address,
        otp_rate_window_s=settings.otp_rate_window_s,
        login_attempts_per_account=settings.login_attempts_per_account,
        login_attempts_per_address=settings.login_attempts_per_address,
        login_rate_window_s=settings.login_rate_window_s,
        login_lockout_failures=settings.login_lockout_failures,
        login_lockout_s=settings.login_lockout_s,
    )


def bootstrap(settings: RegistrySettings, context: ServiceContext) -> Registry:
    sms: SmsSender = (
        HttpSmsGateway(settings.sms_gateway_url, settings.sms_gateway_token) if settings.sms_gateway_url else LogSms()
    )
    state_registry: StateRegistry = (
        HttpStateRegistry(settings.state_registry_url, settings.state_registry_token)
        if settings.state_registry_url
        else FileStateRegistry(settings.state_registry_file)
    )
    box = SecretBox(load_or_create_secret(settings.keys_dir, "login-secrets"))
    deps = Dependencies(
        sessions=context.session_factory,
        clock=context.clock,
        protector=IinProtector(
            encryption_key=load_or_create_secret(settings.keys_dir, "iin-encryption"),
            index_key=load_or_create_secret(settings.keys_dir, "iin-index"),
        ),
        tokens=TokenIssuer(
            keys=load_keys(settings.keys_dir),
            keys_dir=settings.keys_dir,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl=timedelta(seconds=settings.access_token_ttl_s),
        ),
        box=box,
        evidence=EvidenceStore(
            settings.evidence_dir, SecretBox(load_or_create_secret(settings.keys_dir, "evidence-encryption"))
        ),
        sms=sms,
        outgoing_sms=BackgroundSms(sms),
        state_registry=state_registry,
        limiter=Limiter(context.redis),
        pending=PendingRegistrations(context.redis, box, OTP_MAX_ATTEMPTS),
        limits=_limits(settings),
        access_token_ttl_s=settings.access_token_ttl_s,
    )
    return Registry(settings=settings, context=context, deps=deps)
