"""The file formats the document store accepts, recognised from their bytes.

``filetype`` names the family from the first bytes; zip-based office files
are then told apart by what the archive declares (ODF's ``mimetype`` member,
OOXML's ``[Content_Types].xml``), which also refuses their macro-enabled and
template variants. A file's name is only ever displayed: it is cleaned, and
its extension must agree with what the bytes are.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import IO
from xml.parsers import expat

#: Bytes the sniffer looks at.
SNIFF_BYTES = 8192
MAX_NAME_LENGTH = 120
FALLBACK_STEM = "document"

PDF, OOXML, ODF, IMAGE = "pdf", "ooxml", "odf", "image"


@dataclass(frozen=True)
class Format:
    label: str  # the format's usual name, the same in every language
    extensions: tuple[str, ...]  # the first is the one given to names without one
    family: str  # how text and technical metadata are read (extract.py)


_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
_ODT = "application/vnd.oasis.opendocument.text"
_ODS = "application/vnd.oasis.opendocument.spreadsheet"
_ODP = "application/vnd.oasis.opendocument.presentation"

FORMATS: dict[str, Format] = {
    "application/pdf": Format("PDF", (".pdf",), PDF),
    _DOCX: Format("DOCX", (".docx",), OOXML),
    _XLSX: Format("XLSX", (".xlsx",), OOXML),
    _PPTX: Format("PPTX", (".pptx",), OOXML),
    _ODT: Format("ODT", (".odt",), ODF),
    _ODS: Format("ODS", (".ods",), ODF),
    _ODP: Format("ODP", (".odp",), ODF),
    "image/jpeg": Format("JPEG", (".jpg", ".jpeg", ".jpe"), IMAGE),
    "image/png": Format("PNG", (".png",), IMAGE),
    "image/webp": Format("WebP", (".webp",), IMAGE),
    "image/gif": Format("GIF", (".gif",), IMAGE),
    "image/tiff": Format("TIFF", (".tif", ".tiff"), IMAGE),
}

#: What the sniffer may say for an accepted type (an animated PNG is still a PNG).
_ALIASES = {"image/apng": "image/png"}
#: OOXML main parts: the content type of the part tells the document's kind.
_OOXML_MAIN_PARTS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": _DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": _XLSX,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": _PPTX,
}
_ZIP_FAMILY = {"application/zip", "application/epub+zip"} | {
    mime for mime, fmt in FORMATS.items() if fmt.family in (OOXML, ODF)
}
_ODF_PREFIX = "application/vnd.oasis.opendocument."
_CONTENT_TYPES_MAX = 1024 * 1024
_MIMETYPE_MAX = 200


def sniff(buffer: IO[bytes]) -> str | None:
    """The media type the bytes of ``buffer`` (seekable) show, or None if unknown.

    The name and what the client declares play no part. A zip that is no
    accepted office document comes back as what it declares, or None.
    """
    import filetype  # deferred: only uploads need it

    buffer.seek(0)
    head = buffer.read(SNIFF_BYTES)
    buffer.seek(0)
    kind = filetype.guess(head)
    mime = _ALIASES.get(kind.mime, kind.mime) if kind else None
    if mime in _ZIP_FAMILY:
        try:
            mime = _zip_declared_type(buffer)
        except _Unreadable:
            # A damaged office file is still one (reading it will say so); a damaged
            # zip of anything else is nothing accepted.
            mime = mime if mime in FORMATS else None
        buffer.seek(0)
    return mime


class _Unreadable(Exception):
    pass


def _zip_declared_type(buffer: IO[bytes]) -> str | None:
    try:
        with zipfile.ZipFile(buffer) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                with archive.open("mimetype") as member:
                    declared = member.read(_MIMETYPE_MAX).decode("ascii", "replace").strip()
                # Only an OpenDocument may declare its type this way.
                return declared if declared.startswith(_ODF_PREFIX) else None
            if "[Content_Types].xml" in names:
                with archive.open("[Content_Types].xml") as member:
                    return _ooxml_type(member.read(_CONTENT_TYPES_MAX + 1))
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise _Unreadable from exc
    return None


def _ooxml_type(content_types: bytes) -> str | None:
    if len(content_types) > _CONTENT_TYPES_MAX:
        return None
    found: list[str] = []

    def start(name: str, attributes: dict[str, str]) -> None:
        if name.endswith(" Override") or name == "Override":
            declared = _OOXML_MAIN_PARTS.get(attributes.get("ContentType", ""))
            if declared:
                found.append(declared)

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.StartElementHandler = start
    try:
        parser.Parse(content_types, True)
    except (expat.ExpatError, ValueError):
        return None
    return found[0] if len(set(found)) == 1 else None


def _refuse_doctype(*_args: object) -> None:
    # Office XML never has a DTD; one is an entity-expansion attempt.
    raise ValueError("DTD in an office document")


# --- Names -----------------------------------------------------------------------

_UNSAFE = re.compile(r"[^\w .,()\[\]'+&@#%=~-]")
_SPACES = re.compile(r"\s+")


def extension_of(name: str) -> str:
    """The lower-case extension of ``name`` with its dot, or "" without one."""
    stem, dot, extension = name.rpartition(".")
    return "." + extension.lower() if dot and stem and extension else ""


def extension_matches(name: str, media_type: str) -> bool:
    """Does the name's extension (if it has one) belong to ``media_type``?"""
    extension = extension_of(clean_name(name))
    return not extension or extension in FORMATS[media_type].extensions


def clean_name(original: str) -> str:
    """``original`` without path parts, control, format or unsafe characters, NFC."""
    name = unicodedata.normalize("NFC", original or "")
    name = re.split(r"[/\\]", name)[-1]  # browsers on Windows may send C:\path\name
    visible = "".join(
        " " if unicodedata.category(c).startswith("Z") else c
        for c in name
        if not unicodedata.category(c).startswith("C")
    )
    return _SPACES.sub(" ", _UNSAFE.sub("", visible)).strip(" .")


def display_name(original: str, media_type: str) -> str:
    """A name to show and offer on download, its extension that of ``media_type``."""
    name = clean_name(original)
    extension = extension_of(name)
    stem = name[: -len(extension)] if extension else name
    if extension not in FORMATS[media_type].extensions:
        extension = FORMATS[media_type].extensions[0]
    stem = stem.strip(" .")[: MAX_NAME_LENGTH - len(extension)].rstrip(" .") or FALLBACK_STEM
    return stem + extension


def labels() -> str:
    """The accepted formats, for messages: "PDF, DOCX, ..."."""
    return ", ".join(fmt.label for fmt in FORMATS.values())
