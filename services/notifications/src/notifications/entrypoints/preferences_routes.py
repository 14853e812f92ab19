"""The caller's own preferences (service_layer/preferences.py)."""

from __future__ import annotations

from fastapi import APIRouter

from notifications.entrypoints.dependencies import Deps, InboxReader, reader_of
from notifications.entrypoints.presenters import preferences_out
from notifications.entrypoints.schemas import PreferencesIn, PreferencesOut
from notifications.service_layer import preferences

router = APIRouter(tags=["preferences"])


@router.get("/v1/me/preferences", responses={401: {}, 403: {}})
async def get_preferences(caller: InboxReader, deps: Deps) -> PreferencesOut:
    """The caller's language, consented contacts, channels and quiet hours (contacts are the caller's own)."""
    return preferences_out(await preferences.read_preferences(deps, reader_of(caller)))


@router.put("/v1/me/preferences", responses={401: {}, 403: {}, 422: {}})
async def put_preferences(body: PreferencesIn, caller: InboxReader, deps: Deps) -> PreferencesOut:
    """Replace the caller's preferences. An address is kept only with consent; withdrawing consent deletes it."""
    change = preferences.PreferencesChange(
        language=body.language,
        timezone=body.timezone,
        email=str(body.email.address) if body.email and body.email.consent and body.email.address else None,
        phone=body.phone.number if body.phone and body.phone.consent else None,
        channels={kind: sorted(set(channels)) for kind, channels in body.channels.items()},
        quiet_start=body.quiet_hours.start if body.quiet_hours else None,
        quiet_end=body.quiet_hours.end if body.quiet_hours else None,
    )
    return preferences_out(await preferences.change_preferences(deps, reader_of(caller), change))
