"""The portal's words in Kazakh, Russian and English: flat JSON files per language (``kk.json``, ``ru.json``,
``en.json`` for what every page shares, and ``<area>/kk.json`` etc. for one area's pages: ``parent/``,
``provider/``, ``admin/``; a key may live in only one file), keys dotted by area (``parent.home.title``, ``errors.missing``). Every key exists in all three, and a
Kazakh or Russian value never equals the English one unless the key is in ``SAME_IN_EVERY_LANGUAGE`` (names,
numbers); tests/test_i18n.py checks both, so a page never falls back to English."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LANGUAGES: tuple[str, ...] = ("kk", "ru", "en")
HERE = Path(__file__).resolve().parent

SAME_IN_EVERY_LANGUAGE: frozenset[str] = frozenset({"brand", "lang.kk", "lang.ru", "lang.en", "auth.iin_example"})
"""Keys whose value is rightly the same word in every language (the product's name, the languages' own names)."""


@cache
def catalogue(language: str) -> dict[str, str]:
    """Every word of ``language``: the shared file and each area's file merged (a key defined twice is an error)."""
    data: dict[str, str] = {}
    for path in [HERE / f"{language}.json", *sorted(HERE.glob(f"*/{language}.json"))]:
        words: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        twice = sorted(set(words) & set(data))
        if twice:
            raise ValueError(f"{path.relative_to(HERE)} defines keys another file already defines: {twice}")
        data.update(words)
    return data


class Translator:
    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else LANGUAGES[0]
        self._words = catalogue(self.language)

    def __call__(self, key: str, **values: object) -> str:
        """The text of ``key``; a missing key shows as itself (tests keep every key present in every language)."""
        text = self._words.get(key, key)
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self._words

    def name(self, localised: dict[str, str] | None) -> str:
        """A name the APIs give in kk/ru/en (regions, districts): the page's language."""
        if not localised:
            return ""
        return localised.get(self.language) or next(iter(localised.values()), "")
