"""Two languages: Chinese (the source text of every template) and English.

English lives in gettext catalogs, one ``.po`` file per area under ``i18n/en/`` (areas are
edited independently), read with Babel at start-up: no compiled ``.mo`` files in the tree. One
Jinja2 environment per language: switching translations per request on a shared environment is
not safe with concurrent requests (WEB.md)."""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Literal

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request

from shared.provinces import PROVINCES, province_label

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")
DEFAULT_LANGUAGE: Language = "zh"
LANGUAGE_COOKIE = "xueji_lang"
HERE = Path(__file__).resolve().parent
CATALOG_DIR = HERE / "i18n"
TEMPLATE_DIR = HERE / "templates"


def marked(text: str) -> str:
    """Marks a text for the message extractor where it is written (a label in a table of codes)
    and returns it unchanged: the template translates it when it is shown. Import it as ``_`` so
    the extractor, which looks for ``_("…")``, finds it."""
    return text


def marked_in(context: str, text: str) -> str:
    """``marked`` for a text that reads differently in English by where it stands: 休学 is the
    status "Suspended" in a list and the change "Suspension" in the 学籍异动 form. The template
    shows it with ``pgettext(context, text)``; the extractor reads ``marked_in`` as pgettext."""
    return text


def read_catalog(language: Language, catalog_dir: Path = CATALOG_DIR) -> Catalog:
    """Every area's messages of one language in one catalog."""
    merged = Catalog(locale=language)
    for po_file in sorted((catalog_dir / language).glob("*.po")):
        with po_file.open("rb") as handle:
            for message in read_po(handle, locale=language):
                if message.id and message.string:
                    merged.add(message.id, message.string, context=message.context)
    return merged


def translations_for(language: Language) -> NullTranslations:
    if language == DEFAULT_LANGUAGE:
        return NullTranslations()
    compiled = io.BytesIO()
    write_mo(compiled, read_catalog(language))
    compiled.seek(0)
    return Translations(fp=compiled)


def pick_language(request: Request) -> Language:
    """The cookie set by the language switch, else the browser's first preference."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    for language in LANGUAGES:
        if chosen == language:
            return language
    accepted = request.headers.get("accept-language", "").lower()
    first = accepted.split(",")[0].strip()
    return "en" if first.startswith("en") else DEFAULT_LANGUAGE


class TestableUndefined(StrictUndefined):
    """A missing value is false in ``{% if %}`` (optional context such as ``problem``), but
    printing or using it still fails loudly instead of rendering nothing."""

    def __bool__(self) -> bool:  # type: ignore[override]
        return False


class Languages:
    """The Jinja2 environment and the Python-side gettext of each language."""

    def __init__(self, configure: Callable[[Environment], None] | None = None) -> None:
        self.environments: dict[Language, Environment] = {}
        self.gettexts: dict[Language, Callable[[str], str]] = {}
        for language in LANGUAGES:
            translations = translations_for(language)
            environment = Environment(
                loader=FileSystemLoader(TEMPLATE_DIR),
                autoescape=select_autoescape(default=True, default_for_string=True),
                undefined=TestableUndefined,
                extensions=["jinja2.ext.i18n"],
                trim_blocks=True,
                lstrip_blocks=True,
            )
            # jinja2.ext.i18n adds this method at run time
            environment.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
            environment.globals["lang"] = language
            # "标签：值" in Chinese, "Label: value" in English.
            environment.globals["colon"] = "：" if language == "zh" else ": "
            environment.globals["provinces"] = [(code, province_label(code, language)) for code in PROVINCES]
            environment.filters["province"] = partial(province_label, language=language)
            if configure is not None:
                configure(environment)
            self.environments[language] = environment
            self.gettexts[language] = translations.gettext

    def gettext(self, language: Language) -> Callable[[str], str]:
        return self.gettexts[language]
