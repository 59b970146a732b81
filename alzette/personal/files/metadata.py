"""Photos lose their metadata before they are kept.

A phone's photo carries EXIF and XMP: where it was taken (GPS), when, the
device's make, model and sometimes serial number, the owner's name, a thumbnail
of the uncropped original. Agents need none of it, and a report filed
anonymously must not name its author through its photo. JPEG, PNG and WebP are
rewritten by ``alzette.core.images`` with only what displays the image (pixels,
colour profile, resolution); the orientation is applied to the pixels first so
that the photo stays upright without its EXIF. This module says which types
are rewritten here and words the refusals for the person who sent the file.

HEIC is kept as sent: Pillow cannot decode it without libheif (see docs/files.md).
GIF and the office and PDF formats are not photos' carriers and are kept as sent.
"""

from __future__ import annotations

from typing import IO

from django.utils.translation import gettext as _

from alzette.core import images
from alzette.personal.files.errors import FileRejected

#: The types whose metadata is removed, with Pillow's name of their format.
STRIPPED_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


def _unreadable() -> FileRejected:
    return FileRejected(
        _("The image cannot be read. Please send another copy of it."), code="unreadable_image"
    )


def strip_metadata(source: IO[bytes], content_type: str) -> bytes | None:
    """The image in ``source`` rewritten without metadata, or None if its type keeps them.

    Raises ``FileRejected`` when the bytes do not decode as the sniffed type, or
    decode to more pixels than Pillow's decompression-bomb limit.
    """
    if content_type not in STRIPPED_TYPES:
        return None
    try:
        return images.without_metadata(source, content_type)
    except images.TooManyPixels as exc:
        raise FileRejected(
            _("The image has too many pixels. Please send a smaller copy of it."),
            code="too_many_pixels",
        ) from exc
    except images.UnreadableImage as exc:
        raise _unreadable() from exc
