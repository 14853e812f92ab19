"""A person's delivery preferences: language, channels per kind, consented contacts, quiet hours.

Rules: in-app delivery is always on; e-mail and SMS go out only to an address the person gave with consent,
for the kinds they chose (``default`` applies to the rest); quiet hours (in the person's time zone) delay e-mail
and SMS until they end, never the in-app message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from notifications.domain.messages import IN_APP_ONLY, URGENT_KINDS

LANGUAGES = ("kk", "ru", "en")
EXTERNAL_CHANNELS = ("email", "sms")
DEFAULT_KEY = "default"


def default_channels(kind: str) -> frozenset[str]:
    """Without a choice of their own: e-mail for everything, SMS too for deadlines and vouchers."""
    return frozenset({"email", "sms"}) if kind in URGENT_KINDS else frozenset({"email"})


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    def contains(self, local: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # across midnight, e.g. 22:00-07:00


@dataclass(frozen=True)
class Preferences:
    language: str | None = None
    timezone: str = "Asia/Almaty"
    email: str | None = None
    phone: str | None = None
    channels: dict[str, list[str]] = field(default_factory=dict)
    quiet_hours: QuietHours | None = None

    def chosen_channels(self, kind: str) -> frozenset[str]:
        if kind in IN_APP_ONLY:
            return frozenset()
        if kind in self.channels:
            return frozenset(self.channels[kind])
        if DEFAULT_KEY in self.channels:
            return frozenset(self.channels[DEFAULT_KEY])
        return default_channels(kind)

    def channels_for(self, kind: str) -> list[str]:
        """External channels this kind goes out on: chosen, and with a consented address."""
        reachable = {"email": self.email is not None, "sms": self.phone is not None}
        return [c for c in EXTERNAL_CHANNELS if c in self.chosen_channels(kind) and reachable[c]]

    def quiet_until(self, now: datetime) -> datetime | None:
        """When quiet hours end, if ``now`` falls in them; None when sending now is fine."""
        if self.quiet_hours is None:
            return None
        return quiet_until(now, ZoneInfo(self.timezone), self.quiet_hours)


def quiet_until(now: datetime, zone: ZoneInfo, quiet: QuietHours) -> datetime | None:
    local = now.astimezone(zone)
    if not quiet.contains(local.time().replace(tzinfo=None)):
        return None
    end = local.replace(hour=quiet.end.hour, minute=quiet.end.minute, second=0, microsecond=0)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), quiet.end, tzinfo=zone)
    return end.astimezone(UTC)


def pick_language(preferred: str | None, accept_language: str | None, default: str) -> str:
    """The person's choice, else the first supported language the client accepts, else the deployment's."""
    if preferred in LANGUAGES:
        return preferred
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return default


def validate_channels(channels: dict[str, list[str]], kinds: tuple[str, ...]) -> list[tuple[str, str]]:
    """(field, problem) for every unknown kind or channel."""
    problems = []
    for kind, chosen in channels.items():
        if kind != DEFAULT_KEY and (kind not in kinds or kind in IN_APP_ONLY):
            problems.append((f"channels.{kind}", "not a kind of message that can be sent outside the app"))
            continue
        for channel in chosen:
            if channel not in EXTERNAL_CHANNELS:
                problems.append((f"channels.{kind}", "channels are email and sms (in-app is always on)"))
    return problems
