"""Photos lose their metadata before they are kept.

A phone's photo carries EXIF and XMP: where it was taken (GPS), when, the
device's make, model and sometimes serial number, the owner's name, a thumbnail
of the uncropped original. Agents need none of it, and a report filed
anonymously must not name its author through its photo. JPEG, PNG and WebP are
rewritten by Pillow with only what displays the image (pixels, colour profile,
resolution); a JPEG's orientation is applied to the pixels first so that the
photo stays upright without its EXIF.

HEIC is kept as sent: Pillow cannot decode it without libheif (see docs/files.md).
GIF and the office and PDF formats are not photos' carriers and are kept as sent.
"""

from __future__ import annotations

import io
from typing import IO

from django.utils.translation import gettext as _
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from alzette.personal.files.errors import FileRejected

#: The types whose metadata is removed, with Pillow's name of their format.
STRIPPED_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}

# Only what changes how the image looks survives the rewrite.
_KEPT_INFO = ("icc_profile", "dpi", "transparency", "gamma", "loop", "duration")

# Quality of a JPEG whose pixels had to be turned (its own tables no longer apply).
_TURNED_JPEG_QUALITY = 90


def _unreadable() -> FileRejected:
    return FileRejected(
        _("The image cannot be read. Please send another copy of it."), code="unreadable_image"
    )


def _orientation(image: Image.Image) -> int:
    return image.getexif().get(ExifTags.Base.Orientation, 1)


def _save_options(image: Image.Image, format_name: str, turned: bool) -> dict:
    options = {key: image.info[key] for key in _KEPT_INFO if key in image.info}
    if format_name == "JPEG":
        # "keep" reuses the file's own quantisation tables: no visible loss.
        options["quality"] = _TURNED_JPEG_QUALITY if turned else "keep"
        options["comment"] = b""  # else Pillow copies the file's comment
    elif format_name == "WEBP":
        options["lossless"] = image.info.get("lossless", False)
        options["quality"] = 90
    if getattr(image, "n_frames", 1) > 1:
        options["save_all"] = True  # animated PNG and WebP keep every frame
    return options


def strip_metadata(source: IO[bytes], content_type: str) -> bytes | None:
    """The image in ``source`` rewritten without metadata, or None if its type keeps them.

    Raises ``FileRejected`` when the bytes do not decode as the sniffed type, or
    decode to more pixels than Pillow's decompression-bomb limit.
    """
    format_name = STRIPPED_TYPES.get(content_type)
    if format_name is None:
        return None
    source.seek(0)
    try:
        with Image.open(source, formats=[format_name]) as image:
            image.load()
            turned = format_name == "JPEG" and _orientation(image) != 1
            picture = ImageOps.exif_transpose(image) if turned else image
            options = _save_options(image, format_name, turned)
            output = io.BytesIO()
            picture.save(output, format=format_name, exif=b"", xmp=b"", **options)
    except Image.DecompressionBombError as exc:
        raise FileRejected(
            _("The image has too many pixels. Please send a smaller copy of it."),
            code="too_many_pixels",
        ) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise _unreadable() from exc
    finally:
        source.seek(0)
    return output.getvalue()
