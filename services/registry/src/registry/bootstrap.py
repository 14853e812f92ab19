"""Composition root of the registry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from qosym_chassis.context import ServiceContext
from qosym_chassis.keys import load_or_create_secret, load_or_create_signing_key

from registry.adapters.protection import IinProtector
from registry.adapters.tokens import TokenIssuer
from registry.config import RegistrySettings


@dataclass(frozen=True)
class Registry:
    settings: RegistrySettings
    context: ServiceContext
    protector: IinProtector
    tokens: TokenIssuer


def bootstrap(settings: RegistrySettings, context: ServiceContext) -> Registry:
    kid, signing_key = load_or_create_signing_key(settings.keys_dir)
    return Registry(
        settings=settings,
        context=context,
        protector=IinProtector(
            encryption_key=load_or_create_secret(settings.keys_dir, "iin-encryption"),
            index_key=load_or_create_secret(settings.keys_dir, "iin-index"),
        ),
        tokens=TokenIssuer(
            kid=kid,
            private_key=signing_key,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl=timedelta(seconds=settings.access_token_ttl_s),
        ),
    )
