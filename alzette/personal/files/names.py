"""File types the platform recognises, and safe display names.

A name a person gives is only ever displayed and offered back on download; it is
never a path in the storage. It is still cleaned, because it reaches pages,
agents' exports and ``Content-Disposition`` headers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_NAME_LENGTH = 120
FALLBACK_STEM = "document"


@dataclass(frozen=True)
class FileType:
    label: str  # the format's usual name, the same in every language
    extensions: tuple[str, ...]  # the first is the one given to stored names

    @property
    def extension(self) -> str:
        return self.extensions[0]


#: Types that can be recognised from their bytes (by ``filetype``), hence accepted.
#: Text formats (HTML, CSV, SVG) have no signature and are never recognised.
SUPPORTED_TYPES: dict[str, FileType] = {
    "application/pdf": FileType("PDF", (".pdf",)),
    "image/jpeg": FileType("JPEG", (".jpg", ".jpeg", ".jpe")),
    "image/png": FileType("PNG", (".png",)),
    "image/webp": FileType("WebP", (".webp",)),
    "image/heic": FileType("HEIC", (".heic", ".heif")),
    "image/gif": FileType("GIF", (".gif",)),
    "application/vnd.oasis.opendocument.text": FileType("ODT", (".odt",)),
    "application/vnd.oasis.opendocument.spreadsheet": FileType("ODS", (".ods",)),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": FileType(
        "DOCX", (".docx",)
    ),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": FileType(
        "XLSX", (".xlsx",)
    ),
}

#: What the sniffer may say for a supported type (an animated PNG is still a PNG).
ALIASES = {"image/apng": "image/png"}

# Word characters (accents included), spaces and a little punctuation; the rest goes.
_UNSAFE = re.compile(r"[^\w .,()\[\]'+&@#%=~-]")
_SPACES = re.compile(r"\s+")


def _visible(text: str) -> str:
    """Drop control, format (bidirectional overrides), surrogate and unassigned characters;
    every kind of space becomes a plain one."""
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category.startswith("Z"):
            kept.append(" ")
        elif not category.startswith("C"):
            kept.append(char)
    return "".join(kept)


def _split(name: str) -> tuple[str, str]:
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        return name, ""
    return stem, "." + extension.lower()


def safe_name(original_name: str, content_type: str) -> str:
    """A display name for a file of ``content_type`` (a key of ``SUPPORTED_TYPES``).

    No path parts, no control or invisible characters, NFC-normalised, at most
    ``MAX_NAME_LENGTH`` characters, and an extension that matches the content:
    "photo.pdf" holding a PNG becomes "photo.png".
    """
    name = unicodedata.normalize("NFC", original_name or "")
    name = re.split(r"[/\\]", name)[-1]  # browsers on Windows may send C:\path\name
    name = _SPACES.sub(" ", _UNSAFE.sub("", _visible(name))).strip(" .")
    stem, extension = _split(name)
    file_type = SUPPORTED_TYPES[content_type]
    if extension not in file_type.extensions:
        extension = file_type.extension
    stem = stem.strip(" .")[: MAX_NAME_LENGTH - len(extension)].rstrip(" .") or FALLBACK_STEM
    return stem + extension


def ascii_fallback(name: str) -> str:
    """``name`` in ASCII for the plain ``filename=`` parameter of old clients."""
    stem, extension = _split(name)
    decomposed = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    stem = decomposed.replace('"', "").replace("\\", "").strip(" .")
    return (stem or FALLBACK_STEM) + extension
