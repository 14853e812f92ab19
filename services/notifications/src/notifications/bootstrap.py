"""Composition root of notifications: the only place that builds adapters (docs/architecture.md, "Service anatomy")."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from notifications.adapters.contacts import ContactBox
from notifications.adapters.email import SmtpSender
from notifications.adapters.live import InboxHub
from notifications.adapters.templates import Renderer
from notifications.adapters.tickets import StreamTickets
from notifications.config import NotificationsSettings
from notifications.service_layer.dependencies import Dependencies, Reminding, Sending
from notifications.service_layer.texts import Texts
from qosym_chassis.context import ServiceContext
from qosym_chassis.keys import load_or_create_secret
from qosym_chassis.sms import HttpSmsGateway


@dataclass(frozen=True)
class Notifications:
    """What the entrypoints receive: the settings, the chassis context and the use cases' dependencies."""

    settings: NotificationsSettings
    context: ServiceContext
    deps: Dependencies


def texts_for(settings: NotificationsSettings) -> Texts:
    return Texts(
        renderer=Renderer(),
        default_language=settings.default_language,
        default_timezone=settings.default_timezone,
        explanation_url=settings.explanation_url,
    )


def sending_for(settings: NotificationsSettings) -> Sending:
    email = (
        SmtpSender(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            start_tls=settings.smtp_starttls,
        )
        if settings.smtp_host
        else None
    )
    sms = HttpSmsGateway(settings.sms_gateway_url, settings.sms_gateway_token) if settings.sms_gateway_url else None
    return Sending(
        email=email,
        sms=sms,
        batch_size=settings.delivery_batch_size,
        max_attempts=settings.delivery_max_attempts,
    )


def bootstrap(settings: NotificationsSettings, context: ServiceContext) -> Notifications:
    deps = Dependencies(
        sessions=context.session_factory,
        clock=context.clock,
        texts=texts_for(settings),
        contacts=ContactBox(load_or_create_secret(settings.keys_dir, "notifications-contact-encryption")),
        live=InboxHub(settings.database_url),
        tickets=StreamTickets(context.redis, ttl_s=settings.stream_ticket_ttl_s),
        sending=sending_for(settings),
        reminding=Reminding(
            zone=ZoneInfo(settings.default_timezone),
            attendance_days=settings.attendance_reminder_days,
            voucher_days=settings.voucher_reminder_days,
        ),
        sms_gateway_token=settings.sms_gateway_token,
    )
    return Notifications(settings=settings, context=context, deps=deps)
