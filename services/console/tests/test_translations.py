"""Every text a person reads exists in both languages: each Chinese message of the templates and
of the page modules has an English translation, and no translation is left over."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from jinja2 import Environment

from services.console.i18n import CATALOG_DIR, read_catalog
from services.console.menu import MENU

CONSOLE = Path(__file__).resolve().parents[1]
HAS_CHINESE = re.compile(r"[\u4e00-\u9fff]")


Key = tuple[str | None, str]  # (context, Chinese text)


def source_messages() -> set[Key]:
    """What ``_("…")`` wraps in templates (Jinja2's Babel extractor) and in Python modules, what
    ``marked_in`` and ``pgettext`` mark with a context, and the menu's labels (translated in the
    template by variable)."""
    method_map = [("templates/**.html", "jinja2"), ("**.py", "python")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "false"}}
    keywords = {"_": None, "gettext": None, "pgettext": ((1, "c"), 2), "marked_in": ((1, "c"), 2)}
    found: set[Key] = set()
    for _filename, _lineno, message, _comments, context in extract_from_dir(
        CONSOLE, method_map=method_map, options_map=options, keywords=keywords
    ):
        texts = message if isinstance(message, tuple) else (message,)
        found.update((context, t) for t in texts if t)
    for section in MENU:
        found.add((None, section.label))
        found.update((None, item.label) for item in section.items)
    return found


def _translated() -> set[Key]:
    return {(m.context, str(m.id)) for m in read_catalog("en") if m.id and m.string}


def test_every_message_has_its_english() -> None:
    translated = _translated()
    missing = sorted(
        f"{text} ({context})" if context else text
        for context, text in source_messages()
        if HAS_CHINESE.search(text) and (context, text) not in translated
    )
    assert not missing, "no English for:\n" + "\n".join(missing)


def test_no_translation_is_left_without_its_source() -> None:
    sources = source_messages()
    unused = sorted(f"{text} ({context})" if context else text for context, text in _translated() - sources)
    assert not unused, "translations nothing uses:\n" + "\n".join(unused)


def test_the_change_kinds_read_as_changes_in_english_not_as_statuses() -> None:
    english = read_catalog("en")
    kind = english.get("休学", context="异动类型")
    status = english.get("休学")
    assert kind is not None and status is not None
    assert (kind.string, status.string) == ("Suspension", "Suspended")


def test_each_po_file_parses_and_keeps_placeholders() -> None:
    placeholder = re.compile(r"%\((\w+)\)s")
    for message in read_catalog("en"):
        if message.id and message.string:
            source, english = str(message.id), str(message.string)
            assert set(placeholder.findall(source)) == set(placeholder.findall(english)), source
    assert list(CATALOG_DIR.glob("en/*.po"))


def test_templates_compile() -> None:
    environment = Environment(extensions=["jinja2.ext.i18n"])
    for template in (CONSOLE / "templates").rglob("*.html"):
        environment.parse(template.read_text(), name=str(template))


def test_each_message_is_translated_in_one_file_only() -> None:
    """One place per message: an area's file holds what only that area shows, common.po what
    several show (so an area can change its file without breaking another's pages)."""
    seen: dict[str, str] = {}
    twice = []
    for po_file in sorted((CATALOG_DIR / "en").glob("*.po")):
        with po_file.open("rb") as handle:
            for message in read_po(handle, locale="en"):
                if message.id:
                    key = f"{message.id} ({message.context})" if message.context else str(message.id)
                    if key in seen:
                        twice.append(f"{key}: {seen[key]} and {po_file.name}")
                    seen[key] = po_file.name
    assert not twice, "\n".join(twice)
