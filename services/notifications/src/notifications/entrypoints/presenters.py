"""From the use cases' typed results to the HTTP models."""

from __future__ import annotations

from notifications.entrypoints.schemas import ContactOut, MessageOut, PreferencesOut, QuietHoursIn
from notifications.service_layer.preferences import PreferencesView
from notifications.service_layer.texts import RenderedMessage


def message_out(message: RenderedMessage) -> MessageOut:
    return MessageOut(
        id=message.id,
        seq=message.seq,
        kind=message.kind,
        subject_id=message.subject_id,
        payload=message.payload,
        created_at=message.created_at,
        read_at=message.read_at,
        title=message.title,
        body=message.body or None,
        language=message.language,
    )


def preferences_out(view: PreferencesView) -> PreferencesOut:
    quiet = QuietHoursIn(start=view.quiet_start, end=view.quiet_end) if view.quiet_start and view.quiet_end else None
    return PreferencesOut(
        language=view.language,
        timezone=view.timezone,
        email=ContactOut(address=view.email, consented_at=view.email_consent_at) if view.email else None,
        phone=ContactOut(address=view.phone, consented_at=view.phone_consent_at) if view.phone else None,
        channels=view.channels,
        quiet_hours=quiet,
    )
