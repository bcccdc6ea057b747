"""The English catalogue: complete, placeholder-safe, and actually used at run time.

French is the source language (every msgid is the French UI text); the English catalogue
lives in ntc_jury/translations/en/LC_MESSAGES/messages.po.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from markupsafe import escape

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ntc_jury"
BABEL_CFG = ROOT / "babel.cfg"
TRANSLATIONS = PACKAGE / "translations"
PO_PATH = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
MO_PATH = PO_PATH.with_suffix(".mo")
# French needs no translation, only its plural rule (scripts/fill_french_plurals.py).
FR_PO_PATH = TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po"

# The same keywords as `make translations-update` (pybabel's defaults plus -k _l -k lazy_gettext).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
# babel.cfg names the Jinja2 extractor "jinja2"; this is the i18n-aware function behind it.
EXTRACTORS = {"jinja2": "jinja2.ext:babel_extract"}

HOME_HEADING = "Le jury du titre professionnel, sans papier"
# Named printf-style placeholders such as %(name)s, %(seconds)s, %(n)d.
PLACEHOLDER = re.compile(r"%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


def _as_tuple(value) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text.replace("%%", "")))


def extract_source_messages() -> Catalog:
    """The messages of the source tree, extracted exactly as `make translations-update` does."""
    with BABEL_CFG.open(encoding="utf-8") as fileobj:
        method_map, options_map = parse_mapping_cfg(fileobj, str(BABEL_CFG))
    method_map = [(pattern, EXTRACTORS.get(method, method)) for pattern, method in method_map]
    catalog = Catalog()
    for filename, lineno, message, comments, context in extract_from_dir(
        str(PACKAGE), method_map, options_map, keywords=KEYWORDS
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def read_english_catalogue() -> Catalog:
    with PO_PATH.open("rb") as fileobj:
        return read_po(fileobj, locale="en")


def compile_if_stale(po_path: Path = PO_PATH, locale: str = "en") -> None:
    """Compile the .mo as `make translations` does, when it is missing or older than the .po."""
    mo_path = po_path.with_suffix(".mo")
    if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
        return
    with po_path.open("rb") as fileobj:
        catalog = read_po(fileobj, locale=locale)
    # Write next to the target then rename, so a concurrent reader never sees half a file.
    fd, tmp_name = tempfile.mkstemp(dir=mo_path.parent, suffix=".mo.tmp")
    try:
        with os.fdopen(fd, "wb") as fileobj:
            write_mo(fileobj, catalog, use_fuzzy=True)
        os.chmod(tmp_name, 0o644)  # mkstemp creates 0600; match what pybabel writes
        os.replace(tmp_name, mo_path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


@pytest.fixture(scope="module")
def source_messages() -> Catalog:
    return extract_source_messages()


@pytest.fixture(scope="module")
def english() -> Catalog:
    return read_english_catalogue()


@pytest.fixture
def compiled(app):
    """A fresh .mo, and Flask-Babel's process-wide translation cache emptied so it is reloaded."""
    compile_if_stale()
    compile_if_stale(FR_PO_PATH, "fr")
    app.extensions["babel"].instance.domain_instance.cache.clear()
    yield
    app.extensions["babel"].instance.domain_instance.cache.clear()


def test_extraction_finds_python_and_template_messages(source_messages):
    ids = {message.id for message in source_messages if message.id}
    locations = {path for message in source_messages for path, _ in message.locations}
    assert HOME_HEADING in ids, "the Jinja2 templates were not extracted"
    assert any(path.endswith(".py") for path in locations), "the Python code was not extracted"
    assert any(path.endswith(".html") for path in locations)


def test_english_catalogue_header(english):
    assert str(english.locale) == "en"
    assert english.charset.lower() == "utf-8"
    assert english.plural_forms == "nplurals=2; plural=(n != 1);"


def test_every_source_message_has_an_english_translation(source_messages, english):
    missing = []
    for message in source_messages:
        if not message.id:
            continue
        translated = english.get(message.id, context=message.context)
        strings = _as_tuple(translated.string) if translated is not None else ()
        if (
            translated is None
            or translated.fuzzy
            or not strings
            or not all(s and s.strip() for s in strings)
        ):
            missing.append(_as_tuple(message.id)[0])
    assert not missing, (
        f"{len(missing)} French message(s) lack a non-fuzzy English translation in "
        f"{PO_PATH.relative_to(ROOT)}. Run `make translations-update`, then translate:\n"
        + "\n".join(f"  - {msgid!r}" for msgid in missing)
    )


def test_translations_keep_the_same_placeholders(english):
    wrong = []
    for message in english:
        if not message.id:
            continue
        ids = _as_tuple(message.id)
        for index, translation in enumerate(_as_tuple(message.string)):
            if not translation:
                continue  # reported by the completeness test
            # msgstr[0] pairs with msgid, every further plural form with msgid_plural.
            source = ids[min(index, len(ids) - 1)]
            expected, found = placeholders(source), placeholders(translation)
            if expected != found:
                wrong.append(
                    f"  - {source!r} → {translation!r}: {sorted(found)} ≠ {sorted(expected)}"
                )
    assert not wrong, "Translations whose placeholders differ from the msgid:\n" + "\n".join(wrong)


def test_no_fuzzy_entries_left(english):
    fuzzy = [message.id for message in english if message.id and message.fuzzy]
    assert not fuzzy, f"Fuzzy entries to review in {PO_PATH.name}: {fuzzy}"


def test_english_home_page_uses_the_compiled_catalogue(client, compiled, english):
    translated = english.get(HOME_HEADING)
    assert translated is not None and translated.string, f"{HOME_HEADING!r} is not translated"
    expected = str(escape(translated.string))
    assert translated.string != HOME_HEADING

    response = client.post("/langue", data={"lang": "en", "next": "/"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/")

    html = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert expected in html
    assert str(escape(HOME_HEADING)) not in html


def test_french_home_page_by_default(client, compiled, english):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="fr">' in html
    assert str(escape(HOME_HEADING)) in html
    assert str(escape(english.get(HOME_HEADING).string)) not in html


def test_the_french_catalogue_never_replaces_a_source_string():
    """French is the source: a non-plural entry stays empty (compiled with -f, a fuzzy guess
    such as "Créer %(num)d candidat" for "Présence du candidat" would be shown)."""
    with FR_PO_PATH.open("rb") as fileobj:
        french = read_po(fileobj, locale="fr")
    replaced = [m.id for m in french if m.id and not m.pluralizable and (m.string or m.fuzzy)]
    assert not replaced, f"run make translations-update: {replaced}"


def test_every_plural_has_its_french_forms(source_messages):
    """Without them gettext falls back to the source rule (n != 1): "0 compétences"."""
    with FR_PO_PATH.open("rb") as fileobj:
        french = read_po(fileobj, locale="fr")
    plurals = [m for m in source_messages if m.id and m.pluralizable]
    assert plurals, "no plural message found: the check below would prove nothing"
    for message in plurals:
        entry = french.get(message.id)
        assert entry is not None, f"{message.id!r}: run make translations-update"
        singular, plural = message.id
        assert tuple(entry.string) == (singular,) + (plural,) * (french.num_plurals - 1)


def test_french_says_zero_in_the_singular(app, client, compiled):
    from flask_babel import force_locale, ngettext

    with app.test_request_context("/"), force_locale("fr"):
        said = {
            n: ngettext("observée par %(num)s juré", "observée par %(num)s jurés", n)
            for n in (0, 1, 2)
        }
    assert said == {0: "observée par 0 juré", 1: "observée par 1 juré", 2: "observée par 2 jurés"}
