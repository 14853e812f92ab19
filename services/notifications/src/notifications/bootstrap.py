"""Composition root of notifications."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from notifications.adapters.contacts import ContactBox
from notifications.adapters.email import SmtpSender
from notifications.adapters.live import InboxHub
from notifications.adapters.templates import Renderer
from notifications.adapters.tickets import StreamTickets
from notifications.config import NotificationsSettings
from notifications.service_layer.delivery import Deliverer
from notifications.service_layer.handlers import EventHandlers
from notifications.service_layer.texts import Texts
from qosym_chassis.clock import Clock
from qosym_chassis.context import ServiceContext
from qosym_chassis.keys import load_or_create_secret
from qosym_chassis.sms import HttpSmsGateway


@dataclass(frozen=True)
class Notifications:
    settings: NotificationsSettings
    context: ServiceContext
    texts: Texts
    box: ContactBox
    hub: InboxHub
    tickets: StreamTickets
    deliverer: Deliverer
    handlers: EventHandlers


def texts_for(settings: NotificationsSettings) -> Texts:
    return Texts(
        renderer=Renderer(),
        default_language=settings.default_language,
        default_timezone=settings.default_timezone,
        explanation_url=settings.explanation_url,
    )


def handlers_for(settings: NotificationsSettings, clock: Clock) -> EventHandlers:
    return EventHandlers(
        clock=clock,
        zone=ZoneInfo(settings.default_timezone),
        attendance_reminder_days=settings.attendance_reminder_days,
        voucher_reminder_days=settings.voucher_reminder_days,
    )


def bootstrap(settings: NotificationsSettings, context: ServiceContext) -> Notifications:
    texts = texts_for(settings)
    box = ContactBox(load_or_create_secret(settings.keys_dir, "notifications-contact-encryption"))
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
    return Notifications(
        settings=settings,
        context=context,
        texts=texts,
        box=box,
        hub=InboxHub(settings.database_url),
        tickets=StreamTickets(context.redis, ttl_s=settings.stream_ticket_ttl_s),
        deliverer=Deliverer(
            sessions=context.session_factory,
            texts=texts,
            box=box,
            clock=context.clock,
            email=email,
            sms=sms,
            batch_size=settings.delivery_batch_size,
            max_attempts=settings.delivery_max_attempts,
        ),
        handlers=handlers_for(settings, context.clock),
    )
