"""Every word of the portal in Kazakh, Russian and English: no key missing, no English left in kk or ru pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal.i18n import LANGUAGES, SAME_IN_EVERY_LANGUAGE, Translator, catalogue

pytestmark = pytest.mark.unit

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "portal"
LITERAL_KEY = re.compile(r"""\bt\(\s*["']([a-z0-9_.]+)["']\s*[),]""")  # a whole key, not a prefix joined with ~


def test_every_key_exists_in_every_language() -> None:
    keys = {language: set(catalogue(language)) for language in LANGUAGES}
    for language in LANGUAGES:
        assert keys[language] == keys["en"], (
            f"{language}: missing {sorted(keys['en'] - keys[language])}, extra {sorted(keys[language] - keys['en'])}"
        )


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_no_english_fallback_in_kazakh_or_russian(language: str) -> None:
    english = catalogue("en")
    same = sorted(k for k, v in catalogue(language).items() if v == english[k] and k not in SAME_IN_EVERY_LANGUAGE)
    assert same == [], f"{language} values equal to English: {same}"


def test_no_value_is_empty() -> None:
    assert [(lang, k) for lang in LANGUAGES for k, v in catalogue(lang).items() if not v.strip()] == []


def test_placeholders_agree_across_languages() -> None:
    def names(text: str) -> set[str]:
        return set(re.findall(r"{(\w+)}", text))

    english = catalogue("en")
    for language in ("kk", "ru"):
        wrong = [k for k, v in catalogue(language).items() if names(v) != names(english[k])]
        assert wrong == [], f"{language}: placeholders differ in {wrong}"


def test_every_key_a_template_or_route_names_exists() -> None:
    files = [*PACKAGE.glob("templates/**/*.html"), *PACKAGE.glob("entrypoints/*.py")]
    used = {key for path in files for key in LITERAL_KEY.findall(path.read_text(encoding="utf-8"))}
    assert used, "the templates name their words with t('...')"
    assert sorted(used - set(catalogue("en"))) == []


def test_a_localised_name_is_shown_in_the_page_language() -> None:
    name = {"en": "Yesil district", "kk": "Есіл ауданы", "ru": "район Есиль"}
    assert Translator("kk").name(name) == "Есіл ауданы"
    assert Translator("ru").name(name) == "район Есиль"
    assert Translator("xx").language == "kk"  # an unknown language reads as the default, never as a key
