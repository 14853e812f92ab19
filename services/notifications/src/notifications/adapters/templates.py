"""Message texts from template files: ``templates/<lang>/<kind>.txt`` (Jinja2), one per kind and language.

A template's first line is the title; the rest (after one blank line) is the body. ``phrases.json`` beside them
translates codes (directions, reasons, outcomes …). Templates see the message payload, ``programme`` (the
programme's title in the reader's language, when known), ``explanation_url`` and a few filters: ``money``
(integer tiyn → tenge), ``day`` (ISO date), ``moment`` (ISO datetime in the reader's time zone), ``due`` (a
moment to act by: midnight reads as 23:59 of the day before), ``month`` (``YYYY-MM``), ``phrase(group)`` and
``plural(n, forms…)`` (``1 session``, ``2 sessions``; Russian takes three forms).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Undefined

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str


def money(tiyn: int) -> str:
    tenge, rest = divmod(int(tiyn), 100)
    whole = f"{tenge:,}".replace(",", " ")
    return f"{whole} ₸" if rest == 0 else f"{whole}.{rest:02d} ₸"


def day(value: str | None) -> str:
    return date.fromisoformat(value).strftime("%d.%m.%Y") if value else ""


def month(value: str | None) -> str:
    if not value:
        return ""
    year, number = value.split("-")
    return f"{number}.{year}"


def plural(count: Any, *forms: str) -> str:
    """``count`` and the word's form for it: two forms (one, other) in English, three (one, few, many) in Russian;
    Kazakh keeps the singular after a numeral and passes one form."""
    n = int(count)
    if len(forms) == 1:
        word = forms[0]
    elif len(forms) == 2:
        word = forms[0] if n == 1 else forms[1]
    else:
        one, few, many = forms
        tens, units = n % 100, n % 10
        word = one if units == 1 and tens != 11 else few if 2 <= units <= 4 and not 12 <= tens <= 14 else many
    return f"{n} {word}"


class Renderer:
    def __init__(self, *, strict: bool = False, folder: Path = TEMPLATES) -> None:
        self._folder = folder
        self._env = Environment(
            loader=FileSystemLoader(str(folder)),
            undefined=StrictUndefined if strict else Undefined,
            autoescape=False,  # plain text (the inbox JSON and text/plain e-mail), never HTML
            keep_trailing_newline=False,
        )
        self._env.filters.update(money=money, day=day, month=month)

    @cache  # noqa: B019 - one renderer per process
    def phrases(self, language: str) -> dict[str, dict[str, str]]:
        loaded: dict[str, dict[str, str]] = json.loads((self._folder / language / "phrases.json").read_text("utf-8"))
        return loaded

    def render(
        self,
        kind: str,
        language: str,
        payload: dict[str, Any],
        *,
        programme: dict[str, str] | None = None,
        explanation_url: str | None = None,
        timezone: str = "Asia/Almaty",
    ) -> Rendered:
        phrases = self.phrases(language)
        zone = ZoneInfo(timezone)

        def phrase(code: Any, group: str) -> str:
            return phrases.get(group, {}).get(str(code), str(code))

        def moment(value: str | None) -> str:
            return datetime.fromisoformat(value).astimezone(zone).strftime("%d.%m.%Y %H:%M") if value else ""

        def due(value: str | None) -> str:
            """A moment something must be done by: midnight reads as the end of the day before (05.01.2027 23:59)."""
            if not value:
                return ""
            local = datetime.fromisoformat(value).astimezone(zone)
            if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
                local -= timedelta(minutes=1)
            return local.strftime("%d.%m.%Y %H:%M")

        template = self._env.get_template(f"{language}/{kind}.txt")
        text = template.render(
            **payload,
            programme=(programme or {}).get(language) if programme else None,
            explanation_url=explanation_url,
            phrase=phrase,
            moment=moment,
            due=due,
            plural=plural,
        )
        title, _, body = text.strip().partition("\n")
        return Rendered(title=title.strip(), body=body.strip())

    def kinds(self, language: str) -> set[str]:
        return {path.stem for path in (self._folder / language).glob("*.txt")}
