"""A reader's own preferences: language, consented contacts, channels per kind, quiet hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from notifications.adapters import preferences_repository
from notifications.adapters.preferences_repository import PreferenceValues
from notifications.domain.messages import KINDS
from notifications.domain.preferences import LANGUAGES, validate_channels
from notifications.service_layer.dependencies import Dependencies
from notifications.service_layer.inbox import Reader
from qosym_chassis.errors import FieldError


@dataclass(frozen=True)
class PreferencesView:
    language: str | None
    timezone: str
    email: str | None
    email_consent_at: datetime | None
    phone: str | None
    phone_consent_at: datetime | None
    channels: dict[str, list[str]]
    quiet_start: time | None
    quiet_end: time | None


@dataclass(frozen=True)
class PreferencesChange:
    language: str
    timezone: str
    email: str | None  # None: none given, or consent withdrawn (the stored address is deleted)
    phone: str | None
    channels: dict[str, list[str]]
    quiet_start: time | None
    quiet_end: time | None


async def read_preferences(deps: Dependencies, reader: Reader) -> PreferencesView:
    person_id = reader.person_id
    async with deps.sessions() as session:
        stored = await preferences_repository.get_preference(session, person_id)
    if stored is None:
        return PreferencesView(None, deps.texts.default_timezone, None, None, None, None, {}, None, None)
    box = deps.contacts
    return PreferencesView(
        language=stored.language,
        timezone=stored.timezone,
        email=box.open(stored.email_enc, person_id=person_id, field="email"),
        email_consent_at=stored.email_consent_at,
        phone=box.open(stored.phone_enc, person_id=person_id, field="phone"),
        phone_consent_at=stored.phone_consent_at,
        channels=stored.channels,
        quiet_start=stored.quiet_start,
        quiet_end=stored.quiet_end,
    )


async def change_preferences(deps: Dependencies, reader: Reader, change: PreferencesChange) -> PreferencesView:
    """Replace the reader's preferences; record which group audiences they belong to (from their token).

    Every change that keeps an address re-affirms consent to it; without one the stored address is deleted.
    """
    if change.language not in LANGUAGES:
        raise FieldError("language", "one of kk, ru, en")
    problems = validate_channels(change.channels, KINDS)
    if problems:
        raise FieldError(*problems[0])
    person = reader.person_id
    box = deps.contacts
    values = PreferenceValues(
        language=change.language,
        timezone=change.timezone,
        email_enc=box.seal(change.email, person_id=person, field="email") if change.email else None,
        phone_enc=box.seal(change.phone, person_id=person, field="phone") if change.phone else None,
        channels=change.channels,
        quiet_start=change.quiet_start,
        quiet_end=change.quiet_end,
        at=deps.clock.now(),
    )
    async with deps.sessions() as session, session.begin():
        await preferences_repository.put_preference(session, person, values)
        await preferences_repository.set_memberships(session, person, reader.audiences)
    return await read_preferences(deps, reader)
