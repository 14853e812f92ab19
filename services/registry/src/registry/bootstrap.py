"""Composition root of the registry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from qosym_chassis.context import ServiceContext
from qosym_chassis.keys import load_or_create_secret
from qosym_chassis.protection import IinProtector
from registry.adapters.credentials import SecretBox
from registry.adapters.evidence import EvidenceStore
from registry.adapters.sms import BackgroundSms, HttpSmsGateway, LogSms, SmsSender
from registry.adapters.state_registry import FileStateRegistry, HttpStateRegistry, StateRegistry
from registry.adapters.tokens import TokenIssuer, load_keys
from registry.config import RegistrySettings


@dataclass(frozen=True)
class Registry:
    settings: RegistrySettings
    context: ServiceContext
    protector: IinProtector
    tokens: TokenIssuer
    box: SecretBox
    evidence: EvidenceStore
    sms: SmsSender
    state_registry: StateRegistry
    outgoing_sms: BackgroundSms  # the same sender, not awaited by the request (login codes)


def bootstrap(settings: RegistrySettings, context: ServiceContext) -> Registry:
    sms: SmsSender = (
        HttpSmsGateway(settings.sms_gateway_url, settings.sms_gateway_token) if settings.sms_gateway_url else LogSms()
    )
    return Registry(
        settings=settings,
        context=context,
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
        box=SecretBox(load_or_create_secret(settings.keys_dir, "login-secrets")),
        evidence=EvidenceStore(
            settings.evidence_dir, SecretBox(load_or_create_secret(settings.keys_dir, "evidence-encryption"))
        ),
        sms=sms,
        state_registry=HttpStateRegistry(settings.state_registry_url, settings.state_registry_token)
        if settings.state_registry_url
        else FileStateRegistry(settings.state_registry_file),
        outgoing_sms=BackgroundSms(sms),
    )
