"""Reading a document: its text for the index, and technical metadata.

PDF with pypdf; OOXML (docx, xlsx, pptx) and OpenDocument (odt, ods, odp) by
reading their XML parts from the zip with the standard library; images with
Pillow, for their dimensions only (no text). Files come from anyone who may
publish, so reading is bounded: XML with a DTD is refused (no entity
expansion), archives may unpack to ``MAX_UNPACKED_BYTES`` at most, images to
``MAX_PIXELS``, and text stops at the caller's ``max_chars``.

Names of persons found in a file's own metadata (creator, last modified by)
are not kept: the territory repository holds no names.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any
from xml.parsers import expat

from django.utils.translation import gettext as _

from alzette.territory.documents.formats import FORMATS, IMAGE, OOXML, PDF

#: Largest total an office archive may unpack to (its XML parts read).
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
#: Largest image, in pixels (Pillow refuses twice its own default beyond this).
MAX_PIXELS = 180_000_000
#: Pages of a PDF whose text is read; the page count covers them all.
MAX_PDF_PAGES = 2000
_CHUNK = 64 * 1024


class Unreadable(Exception):
    """The file is not what its type promises, or cannot be read; ``code`` says how."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Extracted:
    text: str = ""
    technical: dict[str, Any] = field(default_factory=dict)
    title: str = ""  # the title the file declares, if any
    language: str = ""  # the language the file declares (BCP 47), if any


def extract(media_type: str, stream: IO[bytes], *, max_chars: int) -> Extracted:
    """Read ``stream`` (seekable, of a type of ``FORMATS``); raise ``Unreadable`` if broken."""
    family = FORMATS[media_type].family
    stream.seek(0)
    try:
        if family == PDF:
            found = _pdf(stream, max_chars)
        elif family == IMAGE:
            found = _image(stream)
        else:
            found = _office(media_type, family, stream, max_chars)
    finally:
        stream.seek(0)
    found.text = clean_text(found.text)[:max_chars]
    found.title = clean_text(found.title).replace("\n", " ")[:300]
    found.technical["text_characters"] = len(found.text)
    return found


def corrupt(label: str) -> Unreadable:
    """The refusal of a file that does not read as its format (``label``: "PDF", "PNG"...)."""
    return Unreadable(
        "corrupt",
        _("The file cannot be read as %(format)s: it is damaged or not what its type says.")
        % {"format": label},
    )


def too_many_pixels() -> Unreadable:
    """The refusal of an image above ``MAX_PIXELS``."""
    return Unreadable(
        "too_many_pixels",
        _("The image is too large: %(pixels)s million pixels at most.")
        % {"pixels": MAX_PIXELS // 1_000_000},
    )


# --- Text hygiene -------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_TRAILING = re.compile(r"[ \t]+\n")
_BLANK_LINES = re.compile(r"\n{3,}")


def clean_text(text: str) -> str:
    """NFC text without control characters (PDFs often hold NULs), lone surrogates
    or runs of blank lines: what every database accepts."""
    text = text.encode("utf-8", "ignore").decode("utf-8")  # drops lone surrogates
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text.replace("\r\n", "\n")))
    text = text.replace("\r", "\n")
    return _BLANK_LINES.sub("\n\n", _TRAILING.sub("\n", text)).strip()


# --- PDF ---------------------------------------------------------------------------


def _pdf(stream: IO[bytes], max_chars: int) -> Extracted:
    from pypdf import PdfReader

    label = FORMATS["application/pdf"].label
    try:
        reader = PdfReader(stream, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise Unreadable(
                "encrypted",
                _("The PDF is protected by a password; publish it without protection."),
            )
        page_count = len(reader.pages)
    except Unreadable:
        raise
    except Exception as exc:  # pypdf raises many kinds of errors on broken files
        raise corrupt(label) from exc
    if page_count == 0:
        raise corrupt(label)
    found = Extracted(technical={"page_count": page_count, "pdf_version": _pdf_version(reader)})
    found.text = _pdf_text(reader, min(page_count, MAX_PDF_PAGES), max_chars)
    found.title, found.language = _pdf_info(reader)
    return found


def _pdf_version(reader: Any) -> str:
    header = str(getattr(reader, "pdf_header", "") or "")
    return header.removeprefix("%PDF-")[:8]


def _pdf_text(reader: Any, pages: int, max_chars: int) -> str:
    parts, length = [], 0
    for number in range(pages):
        try:
            text = reader.pages[number].extract_text() or ""
        except Exception:  # noqa: S112 - one unreadable page does not spoil the others
            continue
        parts.append(text)
        length += len(text)
        if length >= max_chars:
            break
    return "\n\n".join(parts)


def _pdf_info(reader: Any) -> tuple[str, str]:
    title = language = ""
    try:
        info = reader.metadata
        title = str(info.title or "") if info is not None else ""
        lang = reader.trailer["/Root"].get("/Lang")
        language = str(lang) if lang is not None else ""
    except Exception:  # noqa: S110 - metadata is optional; a broken dictionary is no metadata
        pass
    return title, language


# --- Images ----------------------------------------------------------------------------


def _image(stream: IO[bytes]) -> Extracted:
    from PIL import Image

    label = "image"
    try:
        with Image.open(stream) as image:
            label = image.format or label
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise too_many_pixels()
            technical: dict[str, Any] = {
                "width": width,
                "height": height,
                "color_mode": image.mode,
                "frames": int(getattr(image, "n_frames", 1)),
            }
            dpi = image.info.get("dpi")
            if isinstance(dpi, tuple) and len(dpi) == 2:
                technical["dpi"] = [round(float(dpi[0]), 2), round(float(dpi[1]), 2)]
            image.load()  # decodes the pixels: a truncated or damaged image fails here
    except Unreadable:
        raise
    except Image.DecompressionBombError as exc:
        raise too_many_pixels() from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise corrupt(label) from exc
    return Extracted(technical=technical)


# --- Office documents ---------------------------------------------------------------

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_DC = "http://purl.org/dc/elements/1.1/"
_DCTERMS = "http://purl.org/dc/terms/"
_EP = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
_META = "urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"


class _Budget:
    def __init__(self, limit: int) -> None:
        self.left = limit

    def spend(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise Unreadable(
                "corrupt",
                _("The archive unpacks to more than %(size)s MB; it cannot be read.")
                % {"size": MAX_UNPACKED_BYTES // (1024 * 1024)},
            )


class _Text:
    """Collects character data inside ``inside`` elements, with breaks and spaces."""

    def __init__(
        self,
        inside: set[str],
        *,
        line_ends: set[str],
        breaks: set[str] = frozenset(),  # type: ignore[assignment]
        tabs: set[str] = frozenset(),  # type: ignore[assignment]
        spaces: str = "",
        max_chars: int,
    ) -> None:
        self.inside, self.line_ends, self.breaks, self.tabs = inside, line_ends, breaks, tabs
        self.spaces = spaces
        self.depth = 0
        self.parts: list[str] = []
        self.length = 0
        self.max_chars = max_chars

    @property
    def full(self) -> bool:
        return self.length >= self.max_chars

    def _add(self, text: str) -> None:
        if not self.full:
            self.parts.append(text)
            self.length += len(text)

    def start(self, name: str, attributes: dict[str, str]) -> None:
        if name in self.inside:
            self.depth += 1
        elif name in self.breaks:
            self._add("\n")
        elif name in self.tabs:
            self._add("\t")
        elif name == self.spaces:
            count = attributes.get(f"{_TEXT} c", "1")
            self._add(" " * min(int(count) if count.isdigit() else 1, 100))

    def end(self, name: str) -> None:
        if name in self.inside:
            self.depth -= 1
        if name in self.line_ends:
            self._add("\n")

    def characters(self, data: str) -> None:
        if self.depth > 0:
            self._add(data)

    @property
    def text(self) -> str:
        return "".join(self.parts)


class _Properties:
    """Element texts and attributes of metadata parts (core.xml, app.xml, meta.xml)."""

    def __init__(self, wanted: set[str], counted: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.wanted, self.counted = wanted, counted
        self.values: dict[str, str] = {}
        self.counts: dict[str, int] = dict.fromkeys(counted, 0)
        self.attributes: dict[str, str] = {}
        self._current: str | None = None

    def start(self, name: str, attributes: dict[str, str]) -> None:
        if name in self.counted:
            self.counts[name] += 1
        if name == f"{_META} document-statistic":
            self.attributes.update(attributes)
        self._current = name if name in self.wanted else None

    def end(self, name: str) -> None:
        self._current = None

    def characters(self, data: str) -> None:
        if self._current is not None and len(self.values.get(self._current, "")) < 1000:
            self.values[self._current] = self.values.get(self._current, "") + data


def _parse(
    archive: zipfile.ZipFile,
    name: str,
    handler: _Text | _Properties | _Counting,
    budget: _Budget,
    stop: Callable[[], bool] = lambda: False,
) -> None:
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = handler.end
    parser.CharacterDataHandler = handler.characters
    parser.buffer_text = True
    with archive.open(name) as member:
        while chunk := member.read(_CHUNK):
            budget.spend(len(chunk))
            parser.Parse(chunk, False)
            if stop():
                return
        parser.Parse(b"", True)


def _refuse_dtd(*_args: object) -> None:
    raise ValueError("office XML never has a DTD")


def _office(media_type: str, family: str, stream: IO[bytes], max_chars: int) -> Extracted:
    label = FORMATS[media_type].label
    budget = _Budget(MAX_UNPACKED_BYTES)
    try:
        with zipfile.ZipFile(stream) as archive:
            names = archive.namelist()
            if family == OOXML:
                return _ooxml(media_type, archive, names, budget, max_chars)
            return _odf(media_type, archive, names, budget, max_chars)
    except Unreadable:
        raise
    except (
        zipfile.BadZipFile,
        KeyError,
        OSError,
        EOFError,
        ValueError,
        expat.ExpatError,
        NotImplementedError,
        RuntimeError,  # an encrypted member
    ) as exc:
        raise corrupt(label) from exc


def _numbered(names: list[str], pattern: str) -> list[str]:
    """The names matching ``pattern`` in the order of the number it captures."""
    numbered = []
    for name in names:
        match = re.fullmatch(pattern, name)
        if match:
            numbered.append((int(match.group(1)), name))
    return [name for _number, name in sorted(numbered)]


def _ooxml(
    media_type: str, archive: zipfile.ZipFile, names: list[str], budget: _Budget, max_chars: int
) -> Extracted:
    kind = FORMATS[media_type].label
    technical: dict[str, Any] = {}
    if kind == "DOCX":
        parts = ["word/document.xml"]
        text = _Text(
            {f"{_W} t"},
            line_ends={f"{_W} p"},
            breaks={f"{_W} br", f"{_W} cr"},
            tabs={f"{_W} tab"},
            max_chars=max_chars,
        )
    elif kind == "XLSX":
        workbook = _Properties(set(), {f"{_S} sheet"})
        _parse(archive, "xl/workbook.xml", workbook, budget)
        technical["sheet_count"] = workbook.counts[f"{_S} sheet"]
        parts = ["xl/sharedStrings.xml"] if "xl/sharedStrings.xml" in names else []
        text = _Text({f"{_S} t"}, line_ends={f"{_S} si"}, max_chars=max_chars)
    else:
        parts = _numbered(names, r"ppt/slides/slide([0-9]+)\.xml")
        technical["slide_count"] = len(parts)
        text = _Text({f"{_A} t"}, line_ends={f"{_A} p"}, breaks={f"{_A} br"}, max_chars=max_chars)
    for part in parts:
        _parse(archive, part, text, budget, stop=lambda: text.full)
    found = Extracted(text=text.text, technical=technical)
    if "docProps/core.xml" in names:
        core = _Properties(
            {f"{_DC} title", f"{_DC} language", f"{_DCTERMS} created", f"{_DCTERMS} modified"}
        )
        _parse(archive, "docProps/core.xml", core, budget)
        found.title = core.values.get(f"{_DC} title", "")
        found.language = core.values.get(f"{_DC} language", "").strip()
        _dates(
            technical,
            core.values.get(f"{_DCTERMS} created"),
            core.values.get(f"{_DCTERMS} modified"),
        )
    if "docProps/app.xml" in names:
        app = _Properties({f"{_EP} Pages", f"{_EP} Words"})
        _parse(archive, "docProps/app.xml", app, budget)
        _counts(
            technical,
            page_count=app.values.get(f"{_EP} Pages"),
            word_count=app.values.get(f"{_EP} Words"),
        )
    return found


def _odf(
    media_type: str, archive: zipfile.ZipFile, names: list[str], budget: _Budget, max_chars: int
) -> Extracted:
    kind = FORMATS[media_type].label
    text = _Text(
        {f"{_TEXT} p", f"{_TEXT} h"},
        line_ends={f"{_TEXT} p", f"{_TEXT} h"},
        breaks={f"{_TEXT} line-break"},
        tabs={f"{_TEXT} tab"},
        spaces=f"{_TEXT} s",
        max_chars=max_chars,
    )
    counted = {f"{_TABLE} table", f"{_DRAW} page"}
    content = _Counting(text, counted)
    _parse(archive, "content.xml", content, budget)
    technical: dict[str, Any] = {}
    if kind == "ODS":
        technical["sheet_count"] = content.counts[f"{_TABLE} table"]
    elif kind == "ODP":
        technical["slide_count"] = content.counts[f"{_DRAW} page"]
    found = Extracted(text=text.text, technical=technical)
    if "meta.xml" in names:
        meta = _Properties(
            {f"{_DC} title", f"{_DC} language", f"{_META} creation-date", f"{_DC} date"}
        )
        _parse(archive, "meta.xml", meta, budget)
        found.title = meta.values.get(f"{_DC} title", "")
        found.language = meta.values.get(f"{_DC} language", "").strip()
        _dates(technical, meta.values.get(f"{_META} creation-date"), meta.values.get(f"{_DC} date"))
        stats = meta.attributes
        _counts(
            technical,
            page_count=stats.get(f"{_META} page-count") if kind == "ODT" else None,
            word_count=stats.get(f"{_META} word-count"),
        )
    return found


class _Counting:
    """A ``_Text`` that also counts some elements (sheets, slides) as it reads."""

    def __init__(self, text: _Text, counted: set[str]) -> None:
        self._text = text
        self.counts = dict.fromkeys(counted, 0)

    def start(self, name: str, attributes: dict[str, str]) -> None:
        if name in self.counts:
            self.counts[name] += 1
        self._text.start(name, attributes)

    def end(self, name: str) -> None:
        self._text.end(name)

    def characters(self, data: str) -> None:
        self._text.characters(data)


def _dates(technical: dict[str, Any], created: str | None, modified: str | None) -> None:
    for key, value in (("created", created), ("modified", modified)):
        value = (value or "").strip()
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9:.]+(Z|[+-][0-9:]+)?)?", value):
            technical[key] = value


def _counts(technical: dict[str, Any], **values: str | None) -> None:
    for key, value in values.items():
        value = (value or "").strip()
        if value.isdigit():
            technical[key] = int(value)
