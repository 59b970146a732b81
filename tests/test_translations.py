"""The interface's gettext catalogues are complete, consistent and used.

These tests read the .po files with polib and the templates with Django's own
``templatize`` (what ``makemessages`` runs), so they need no system gettext.
A string added to a template or marked with ``gettext`` in Python code fails
them until it is extracted (``makemessages``) and translated into every language.
"""

from __future__ import annotations

import ast
import gettext
import html
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import polib
import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation
from django.utils.translation.template import templatize

from alzette.core.i18n import compile_catalogue

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "alzette"
LOCALE_DIR = PACKAGE_DIR / "locale"

# Languages whose every message must be translated. English is the source
# language: an empty English msgstr falls back to the (English) msgid.
TRANSLATED = ("fr", "de", "lb", "pt")
ALL_LANGUAGES = ("fr", "de", "lb", "en", "pt")
PLURAL_FORMS = {
    "fr": "nplurals=2; plural=(n > 1);",  # 0 and 1 take the singular in French
    "de": "nplurals=2; plural=(n != 1);",
    "lb": "nplurals=2; plural=(n != 1);",
    "en": "nplurals=2; plural=(n != 1);",
    "pt": "nplurals=2; plural=(n != 1);",  # European Portuguese: "0 comunas"
}

# A printf-style conversion, as Python's % operator reads it.
PYTHON_FORMAT = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0 +\-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?"
    r"(?P<conversion>[diouxXeEfFgGcrsa%])"
)
NAMED_PLACEHOLDER = re.compile(r"%\([^)]*\)[#0 +\-]*(?:\d+)?(?:\.\d+)?[diouxXeEfFgGcrsa]")
# Django template variables ({{ name }}) and str.format fields ({name}, {0}, {}).
BRACE_PLACEHOLDER = re.compile(r"\{\{.*?\}\}|\{[^{}\s]*\}")


@dataclass(frozen=True)
class Message:
    msgid: str
    msgid_plural: str = ""
    msgctxt: str | None = None
    source: str = ""

    @property
    def key(self) -> tuple[str | None, str, str]:
        return (self.msgctxt, self.msgid, self.msgid_plural)


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "django.po"


def load(language: str) -> polib.POFile:
    path = po_path(language)
    assert path.is_file(), f"missing catalogue {path} (run makemessages -l {language})"
    return polib.pofile(str(path))


def live_entries(catalogue: polib.POFile) -> list[polib.POEntry]:
    return [entry for entry in catalogue if not entry.obsolete]


def msgstrs(entry: polib.POEntry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural[index] for index in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


def describe(entry: polib.POEntry) -> str:
    where = ", ".join(f"{path}:{line}" for path, line in entry.occurrences) or "no reference"
    return f"{entry.msgid!r} ({where})"


# --- Messages used by the code --------------------------------------------

_TEMPLATE_CALL = re.compile(
    r"\b(?P<function>npgettext|pgettext|ngettext|gettext)\(\s*"
    r"(?P<arguments>(?:u?(?:'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\")\s*,?\s*)+)"
)
_STRING_LITERAL = re.compile(r"u?(?:'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\")")


def _message(function: str, arguments: list[str], source: str) -> Message | None:
    """A Message from a gettext-family call's leading string arguments."""
    prefix = function.split("gettext")[0]  # "", "n", "p" or "np"
    contextual, plural = "p" in prefix, "n" in prefix
    needed = 1 + contextual + plural
    if len(arguments) < needed:
        return None  # a variable, not a literal: nothing to extract
    msgctxt = arguments[0] if contextual else None
    msgid = arguments[1 if contextual else 0]
    msgid_plural = arguments[needed - 1] if plural else ""
    return Message(msgid, msgid_plural, msgctxt, source)


def template_messages(root: Path = PACKAGE_DIR) -> list[Message]:
    """Every message of {% translate %} and {% blocktranslate %} in the templates.

    ``templatize`` turns a template into the pseudo-Python that makemessages
    hands to xgettext, so msgids (trimming, %(var)s, plurals, contexts) come
    out exactly as makemessages writes them.
    """
    messages = []
    for directory in sorted(root.glob("**/templates")):
        for path in sorted(directory.glob("**/*")):
            if path.suffix not in {".html", ".txt"} or not path.is_file():
                continue
            text = templatize(path.read_text(encoding="utf-8"), origin=str(path))
            source = str(path.relative_to(root))
            for call in _TEMPLATE_CALL.finditer(text):
                arguments = [
                    ast.literal_eval(literal)
                    for literal in _STRING_LITERAL.findall(call["arguments"])
                ]
                if message := _message(call["function"], arguments, source):
                    messages.append(message)
    return messages


_TRANSLATION_FUNCTIONS = {
    f"{prefix}{name}{suffix}"
    for prefix in ("", "n", "p", "np")
    for name in ("gettext",)
    for suffix in ("", "_lazy")
} | {"gettext_noop"}


def python_messages(root: Path = PACKAGE_DIR) -> list[Message]:
    """Every literal marked with django.utils.translation's functions in alzette/**.py."""
    messages = []
    for path in sorted(root.glob("**/*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        functions: dict[str, str] = {}  # local name -> translation function
        modules: set[str] = set()  # local names of django.utils.translation
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
                for alias in node.names:
                    if alias.name in _TRANSLATION_FUNCTIONS:
                        functions[alias.asname or alias.name] = alias.name
            elif isinstance(node, ast.ImportFrom) and node.module == "django.utils":
                modules |= {a.asname or a.name for a in node.names if a.name == "translation"}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            target = node.func
            if isinstance(target, ast.Name) and target.id in functions:
                function = functions[target.id]
            elif (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id in modules
                and target.attr in _TRANSLATION_FUNCTIONS
            ):
                function = target.attr
            else:
                continue
            arguments = []
            for argument in node.args:
                if not (isinstance(argument, ast.Constant) and isinstance(argument.value, str)):
                    break
                arguments.append(argument.value)
            source = f"{path.relative_to(root)}:{node.lineno}"
            if message := _message(
                function.removesuffix("_lazy").replace("_noop", ""), arguments, source
            ):
                messages.append(message)
    return messages


# --- (a) Every catalogue is complete and well-formed ------------------------


def test_every_interface_language_has_a_catalogue(settings):
    assert {code for code, _name in settings.LANGUAGES} == set(ALL_LANGUAGES)
    for language in ALL_LANGUAGES:
        assert po_path(language).is_file(), po_path(language)


@pytest.mark.parametrize("language", ALL_LANGUAGES)
def test_headers(language):
    catalogue = load(language)
    assert not catalogue.metadata_is_fuzzy, "the header is still marked fuzzy"
    assert catalogue.metadata.get("Language") == language
    assert "charset=UTF-8" in catalogue.metadata.get("Content-Type", "")
    assert catalogue.metadata.get("Plural-Forms") == PLURAL_FORMS[language]


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated(language):
    catalogue = load(language)
    untranslated = [describe(e) for e in live_entries(catalogue) if not e.translated()]
    assert not untranslated, f"untranslated in {language}: {untranslated}"


@pytest.mark.parametrize("language", ALL_LANGUAGES)
def test_no_message_is_fuzzy(language):
    fuzzy = [describe(e) for e in live_entries(load(language)) if "fuzzy" in e.flags]
    assert not fuzzy, f"fuzzy in {language} (review the translation, then drop the flag): {fuzzy}"


@pytest.mark.parametrize("language", ALL_LANGUAGES)
def test_plural_messages_have_every_form(language):
    catalogue = load(language)
    nplurals = int(re.search(r"nplurals=(\d+)", PLURAL_FORMS[language]).group(1))
    wrong = [
        describe(entry)
        for entry in live_entries(catalogue)
        if entry.msgid_plural and sorted(entry.msgstr_plural) != list(range(nplurals))
    ]
    assert not wrong, f"{language}: plural messages need {nplurals} forms: {wrong}"


@pytest.mark.parametrize("language", ALL_LANGUAGES)
def test_catalogue_compiles_and_loads(language, tmp_path):
    po = tmp_path / "django.po"
    po.write_bytes(po_path(language).read_bytes())
    assert compile_catalogue(po, force=True)
    with po.with_suffix(".mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)  # also parses the Plural-Forms expression
    assert compiled.info().get("language") == language


# --- (b) Placeholders survive translation ------------------------------------


def _python_specs(text: str) -> Counter[str]:
    return Counter(m.group(0) for m in PYTHON_FORMAT.finditer(text) if m["conversion"] != "%")


def _placeholder_problems(entry: polib.POEntry) -> list[str]:
    problems = []
    python_format = "python-format" in entry.flags
    sources = [entry.msgid, entry.msgid_plural] if entry.msgid_plural else [entry.msgid]
    for form, translation_text in enumerate(msgstrs(entry)):
        if not translation_text:
            continue  # untranslated (allowed in English only; other tests catch the rest)
        label = f"msgstr[{form}]" if entry.msgid_plural else "msgstr"
        if python_format:
            # Every form must carry the same conversions as the source (for
            # plurals: as singular and plural together, e.g. the count).
            expected = set().union(*(_python_specs(s) for s in sources))
            if set(_python_specs(translation_text)) != expected:
                problems.append(
                    f"{label} %-placeholders {sorted(_python_specs(translation_text))}"
                    f" != {sorted(expected)}"
                )
            specs = [m for m in PYTHON_FORMAT.finditer(translation_text) if m["conversion"] != "%"]
            names = {m["name"]: 1 for m in specs if m["name"] is not None}
            try:
                _formatted = translation_text % (names or (1,) * len(specs))
            except (TypeError, ValueError, KeyError) as error:
                problems.append(f"{label} does not format: {error}")
        else:
            expected = set().union(*(NAMED_PLACEHOLDER.findall(s) for s in sources))
            if set(NAMED_PLACEHOLDER.findall(translation_text)) != expected:
                problems.append(f"{label} named placeholders differ from the msgid")
        expected = set().union(*(BRACE_PLACEHOLDER.findall(s) for s in sources))
        if set(BRACE_PLACEHOLDER.findall(translation_text)) != expected:
            problems.append(
                f"{label} brace placeholders {BRACE_PLACEHOLDER.findall(translation_text)}"
                f" != {sorted(expected)}"
            )
    return problems


@pytest.mark.parametrize("language", ALL_LANGUAGES)
def test_placeholders_match(language):
    catalogue = load(language)
    problems = {
        describe(entry): found
        for entry in live_entries(catalogue)
        if (found := _placeholder_problems(entry))
    }
    assert not problems, f"{language}: {problems}"


def test_placeholder_check_catches_mistakes():
    entry = polib.POEntry(
        msgid="%(count)s items in {place}",
        msgstr="%(nombre)s articles à {place}",
        flags=["python-format"],
    )
    assert _placeholder_problems(entry)
    entry.msgstr = "%(count)s articles à {lieu}"
    assert _placeholder_problems(entry)
    entry.msgstr = "%(count) articles à {place}"
    assert _placeholder_problems(entry)
    entry.msgstr = "%(count)s articles à {place}"
    assert not _placeholder_problems(entry)


# --- (c) The catalogues hold every message the code uses ---------------------


def test_template_messages_are_found():
    # Guards the extraction itself: an empty list would make the next test vacuous.
    messages = template_messages()
    assert Message("Log in").key in {m.key for m in messages}
    assert any(m.msgid_plural and "%(communes)s" in m.msgid for m in messages)


def test_python_messages_are_found():
    keys = {m.key for m in python_messages()}
    assert Message("Luxembourgish").key in keys


def test_extraction_reads_msgids_as_makemessages_writes_them(tmp_path):
    templates = tmp_path / "app" / "templates"
    templates.mkdir(parents=True)
    (templates / "page.html").write_text(
        "{% load i18n %}<p>{% translate 'A new page' %}</p>"
        '<a title="{% translate "Menu" context "navigation" %}">x</a>'
        "{% blocktranslate trimmed count total=items|length %}\n  {{ total }} item\n"
        "{% plural %}\n  {{ total }} items\n{% endblocktranslate %}"
        "{% blocktranslate with name=user.name %}Hello {{ name }}, 100% ready"
        "{% endblocktranslate %}",
        encoding="utf-8",
    )
    (tmp_path / "app" / "models.py").write_text(
        "from django.utils import translation\n"
        "from django.utils.translation import gettext_lazy as _, npgettext\n"
        "LABEL = _('A new label')\n"
        "COUNT = npgettext('stock', '%(n)s box', '%(n)s boxes', 2)\n"
        "WORD = translation.gettext('A word')\n"
        "DYNAMIC = _(LABEL)\n",
        encoding="utf-8",
    )
    assert {m.key for m in template_messages(tmp_path)} == {
        (None, "A new page", ""),
        ("navigation", "Menu", ""),
        (None, "%(total)s item", "%(total)s items"),
        (None, "Hello %(name)s, 100%% ready", ""),
    }
    assert {m.key for m in python_messages(tmp_path)} == {
        (None, "A new label", ""),
        ("stock", "%(n)s box", "%(n)s boxes"),
        (None, "A word", ""),
    }


@pytest.mark.parametrize("language", ALL_LANGUAGES)
@pytest.mark.parametrize("origin", ["templates", "python"])
def test_catalogue_has_every_message_used(language, origin):
    messages = template_messages() if origin == "templates" else python_messages()
    entries = {(e.msgctxt, e.msgid, e.msgid_plural): e for e in live_entries(load(language))}
    missing = sorted({f"{m.msgid!r} ({m.source})" for m in messages if m.key not in entries})
    assert not missing, (
        f"{language}: not in the catalogue, run makemessages and translate: {missing}"
    )
    if language in TRANSLATED:
        untranslated = sorted(
            {
                f"{m.msgid!r} ({m.source})"
                for m in messages
                if not entries[m.key].translated() or "fuzzy" in entries[m.key].flags
            }
        )
        assert not untranslated, f"{language}: untranslated: {untranslated}"


# --- The pages come out translated ------------------------------------------


@pytest.fixture(scope="module")
def compiled_locale(tmp_path_factory):
    """The catalogues compiled (with polib) into a scratch LOCALE_PATHS directory."""
    root = tmp_path_factory.mktemp("locale")
    for language in ALL_LANGUAGES:
        target = root / language / "LC_MESSAGES" / "django.po"
        target.parent.mkdir(parents=True)
        target.write_bytes(po_path(language).read_bytes())
        compile_catalogue(target, force=True)
    return root


@pytest.mark.parametrize("language", ALL_LANGUAGES)
def test_home_page_renders_in_each_language(language, compiled_locale, settings):
    settings.LOCALE_PATHS = [compiled_locale]  # also resets Django's translation caches
    catalogue = load(language)
    request = RequestFactory().get("/")
    with translation.override(language):
        page = html.unescape(
            render_to_string("web/home.html", {"communes": [], "features": {}}, request=request)
        )
    assert f'<html lang="{language}">' in page

    def translated(msgid: str) -> str:
        return catalogue.find(msgid).msgstr or msgid

    for msgid in (
        "Skip to content",
        "Log in",
        "Sign up",
        "Language",
        "Home",
        "The communes have not been loaded yet (run alzette demo).",
    ):
        assert translated(msgid) in page, (language, msgid)
    if language != "en":
        assert "Skip to content" not in page

    # No commune loaded: the count is 0, singular in French, plural elsewhere.
    entry = next(e for e in live_entries(catalogue) if "%(communes)s" in e.msgid)
    form = gettext.c2py(PLURAL_FORMS[language].split("plural=")[1].rstrip(";"))(0)
    assert entry.msgstr_plural[form].replace("%(communes)s", "0") in page
