"""Composition root of partners: settings and context in, the service's dependencies out."""

from __future__ import annotations

from dataclasses import dataclass

from partners.adapters.sealing import SecretBox
from partners.adapters.sender import WebhookSender
from partners.config import PartnersSettings
from partners.service_layer.dependencies import Dependencies, Retries
from qosym_chassis.context import ServiceContext
from qosym_chassis.keys import load_or_create_secret


@dataclass(frozen=True)
class Partners:
    settings: PartnersSettings
    context: ServiceContext
    deps: Dependencies


def dependencies(settings: PartnersSettings, context: ServiceContext) -> Dependencies:
    return Dependencies(
        sessions=context.session_factory,
        clock=context.clock,
        secrets=SecretBox(load_or_create_secret(settings.keys_dir, "partners-webhook-secrets")),
        sender=WebhookSender(
            settings.webhook_timeout_s, private_allowed=settings.webhook_allow_http or settings.dev_mode
        ),
        retries=Retries(
            max_attempts=settings.webhook_max_attempts,
            backoff_base_s=settings.webhook_backoff_base_s,
            backoff_max_s=settings.webhook_backoff_max_s,
            lease_s=settings.webhook_timeout_s + 30,
            batch=settings.webhook_batch,
        ),
        allow_http=settings.webhook_allow_http or settings.dev_mode,
    )


def bootstrap(settings: PartnersSettings, context: ServiceContext) -> Partners:
    return Partners(settings=settings, context=context, deps=dependencies(settings, context))
