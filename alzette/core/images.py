"""Images rewritten without the metadata that could name or locate a person.

A phone's photo carries EXIF and XMP: where it was taken (GPS), when, the
device's make, model and serial number, the owner's name, a thumbnail of the
uncropped original. A scanner's TIFF may name its operator, a GIF hold
comments and an XMP packet. ``without_metadata`` keeps only what displays the
image:

- JPEG, PNG, WebP: re-encoded by Pillow with their pixels, colour profile,
  resolution, transparency and animation. The EXIF orientation of a still
  image is applied to its pixels first, so that it stays upright without its
  EXIF. A JPEG keeps its own quantisation tables (``quality="keep"``, no
  visible loss) unless it had to be turned; of a multi-picture JPEG (MPO),
  only the primary image is kept. A lossless WebP stays lossless.
- TIFF: every page re-encoded with its own compression (unknown ones as
  deflate), resolution, colour profile and GeoTIFF georeferencing (which
  describes the map, not a person); every other tag goes, GPS included.
- GIF: rewritten block by block, without loss: comments and application
  extensions go, except the animation loop and the colour profile.

Anything after the end of the image goes too. Used by the personal
attachments (``personal.files.metadata``) and the territory's documents, which
turn ``TooManyPixels`` and ``UnreadableImage`` into their own refusals. No
Django here.
"""

from __future__ import annotations

import io
import struct
from typing import IO, Any

from PIL import (
    ExifTags,
    Image,
    ImageOps,
    ImageSequence,
    JpegImagePlugin,
    TiffImagePlugin,
    TiffTags,
)

#: The media types ``without_metadata`` rewrites, with Pillow's name of their format.
FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/tiff": "TIFF",
    "image/gif": "GIF",
}

# Only what changes how the image looks survives the rewrite.
_KEPT_INFO = ("icc_profile", "dpi", "transparency", "gamma", "loop", "duration")
# Quality of a JPEG whose pixels had to be turned (its own tables no longer apply), of
# a lossy WebP, and of the JPEG-compressed pages of a TIFF.
_LOSSY_QUALITY = 90
# What Pillow raises on bytes that are not the image they claim to be.
_DECODING_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error)

# TIFF compressions written back as they were; others become deflate (lossless).
_TIFF_COMPRESSIONS = {"raw", "tiff_lzw", "tiff_adobe_deflate", "tiff_deflate", "packbits"}
_TIFF_BILEVEL_COMPRESSIONS = {"group3", "group4", "tiff_ccitt"}  # for black and white only
_TIFF_JPEG_COMPRESSIONS = {"jpeg", "tiff_jpeg"}
_TIFF_JPEG_MODES = {"L", "RGB", "CMYK"}
# GeoTIFF's georeferencing (pixel scale, tie points, transformation, GeoKeys) and
# GDAL's no-data value: what a GIS needs to place the image, nothing about a person.
_GEOTIFF_TAGS = (33550, 33922, 34264, 34735, 34736, 34737, 42113)

_GIF_SIGNATURES = (b"GIF87a", b"GIF89a")
_GIF_IMAGE, _GIF_EXTENSION, _GIF_TRAILER = 0x2C, 0x21, 0x3B
_GIF_GRAPHIC_CONTROL, _GIF_PLAIN_TEXT, _GIF_APPLICATION = 0xF9, 0x01, 0xFF
# Application extensions that change how the GIF plays or looks (loop count, colour
# profile); any other (XMP, editors' private data) goes, as do comments.
_GIF_KEPT_APPLICATIONS = (b"NETSCAPE2.0", b"ANIMEXTS1.0", b"ICCRGBG1012")


class ImageRejected(Exception):
    """An image ``without_metadata`` cannot rewrite; the callers word it for people."""


class TooManyPixels(ImageRejected):
    """More pixels than the limit, or than Pillow's decompression-bomb limit."""


class UnreadableImage(ImageRejected):
    """The bytes do not decode as the image type they were sniffed as."""


def without_metadata(
    source: IO[bytes], media_type: str, *, max_pixels: int | None = None
) -> bytes | None:
    """The image in ``source`` rewritten without metadata, or None if its type is not rewritten.

    ``source`` must be seekable; it is left at its start. ``media_type`` is the
    type sniffed from the bytes. ``max_pixels``, if given, bounds each image
    (each page of a TIFF, all frames of an animation together), as does Pillow's
    decompression-bomb limit. Raises ``TooManyPixels`` or ``UnreadableImage``
    (which covers an image Pillow decodes but cannot write back).
    """
    format_name = FORMATS.get(media_type)
    if format_name is None:
        return None
    limit = _pixel_limit(max_pixels)
    source.seek(0)
    try:
        if format_name == "GIF":
            cleaned = _gif_without_extensions(source.read())
            _check_decodes(io.BytesIO(cleaned), "GIF", limit)
            return cleaned
        lossless = format_name == "WEBP" and _webp_is_lossless(source)
        source.seek(0)
        with Image.open(source, formats=[format_name]) as image:
            if format_name == "TIFF":
                return _tiff(image, limit)
            return _reencoded(image, format_name, limit, lossless)
    except Image.DecompressionBombError as exc:
        raise TooManyPixels(str(exc)) from exc
    except _DECODING_ERRORS as exc:
        raise UnreadableImage(str(exc) or type(exc).__name__) from exc
    finally:
        source.seek(0)


def _pixel_limit(max_pixels: int | None) -> int | None:
    # Pillow refuses as a bomb what exceeds twice MAX_IMAGE_PIXELS, but checks only
    # the first frame when the file is opened: the same limit is applied to the others.
    pillow = 2 * Image.MAX_IMAGE_PIXELS if Image.MAX_IMAGE_PIXELS else None
    limits = [limit for limit in (max_pixels, pillow) if limit]
    return min(limits) if limits else None


def _check_pixels(pixels: int, limit: int | None) -> None:
    if limit is not None and pixels > limit:
        raise TooManyPixels(f"{pixels} pixels, {limit} at most")


def _check_decodes(stream: IO[bytes], format_name: str, limit: int | None) -> None:
    with Image.open(stream, formats=[format_name]) as image:
        _check_pixels(image.width * image.height, limit)
        image.load()


def _orientation(image: Image.Image) -> int:
    return image.getexif().get(ExifTags.Base.Orientation, 1)


# --- JPEG, PNG, WebP ----------------------------------------------------------------------


def _reencoded(image: Image.Image, format_name: str, limit: int | None, lossless: bool) -> bytes:
    # A multi-picture JPEG's other pictures (previews, depth maps) carry their own EXIF
    # and Pillow cannot write them as JPEG: only the primary picture is kept.
    frames = 1 if format_name == "JPEG" else int(getattr(image, "n_frames", 1))
    _check_pixels(image.width * image.height * frames, limit)
    image.load()
    # Turning applies to a still image; an animation's frames are kept as they are.
    turned = frames == 1 and _orientation(image) != 1
    picture = ImageOps.exif_transpose(image) if turned else image
    options = _save_options(
        image, format_name, turned=turned, animated=frames > 1, lossless=lossless
    )
    output = io.BytesIO()
    picture.save(output, format=format_name, exif=b"", xmp=b"", **options)
    return output.getvalue()


def _save_options(
    image: Image.Image, format_name: str, *, turned: bool, animated: bool, lossless: bool
) -> dict[str, Any]:
    options: dict[str, Any] = {key: image.info[key] for key in _KEPT_INFO if key in image.info}
    if format_name == "JPEG":
        options.update(_jpeg_quality(image, turned))
        options["comment"] = b""  # else Pillow copies the file's comment
    elif format_name == "WEBP":
        options["lossless"] = lossless
        options["quality"] = _LOSSY_QUALITY
    if animated:
        options["save_all"] = True  # animated PNG and WebP keep every frame
    return options


def _jpeg_quality(image: Image.Image, turned: bool) -> dict[str, Any]:
    if turned:
        return {"quality": _LOSSY_QUALITY}
    # The file's own quantisation tables and subsampling: no visible loss. Pillow's
    # "keep" says so for a JPEG, not for the primary picture of an MPO.
    if image.format == "JPEG":
        return {"quality": "keep"}
    return {
        "qtables": getattr(image, "quantization", None) or None,
        "subsampling": JpegImagePlugin.get_sampling(image),
    }


def _webp_is_lossless(source: IO[bytes]) -> bool:
    """Whether the WebP's (first) bitstream is VP8L, lossless: Pillow does not say."""
    source.seek(12)  # after "RIFF", the size and "WEBP": the chunks
    while len(header := source.read(8)) == 8:
        fourcc, size = header[:4], int.from_bytes(header[4:], "little")
        if fourcc in (b"VP8L", b"VP8 "):
            return fourcc == b"VP8L"
        # An animation frame holds its bitstream after a 16-byte header; others are skipped.
        source.seek(16 if fourcc == b"ANMF" else size + (size & 1), io.SEEK_CUR)
    return False


# --- TIFF ----------------------------------------------------------------------------------


def _tiff(image: Image.Image, limit: int | None) -> bytes:
    """Each page copied to a plain image, without the file's tags, and written again.

    Saving the opened file itself would copy its tags back (Pillow keeps XMP, IPTC
    and Photoshop blocks, and hands libtiff every other tag of the original).
    """
    output = io.BytesIO()
    with TiffImagePlugin.AppendingTiffWriter(output) as writer:
        for page in ImageSequence.Iterator(image):
            _check_pixels(page.width * page.height, limit)
            page.load()
            # A plain copy, turned upright (recent Pillows turn a TIFF page as they load it).
            plain = ImageOps.exif_transpose(page)
            options = _tiff_options(page, plain.mode, _georeferencing(page))
            plain.save(writer, format="TIFF", **options)
            writer.newFrame()
    return output.getvalue()


def _georeferencing(page: Image.Image) -> TiffImagePlugin.ImageFileDirectory_v2 | None:
    tags = getattr(page, "tag_v2", {})
    found = [tag for tag in _GEOTIFF_TAGS if tag in tags]
    if not found:
        return None
    kept = TiffImagePlugin.ImageFileDirectory_v2()
    for tag in found:
        kept[tag] = tags[tag]
        kept.tagtype[tag] = tags.tagtype.get(tag, TiffTags.lookup(tag).type)
    return kept


def _tiff_options(
    page: Image.Image, mode: str, georeferencing: TiffImagePlugin.ImageFileDirectory_v2 | None
) -> dict[str, Any]:
    compression = page.info.get("compression") or "raw"
    options: dict[str, Any] = {"compression": "tiff_adobe_deflate"}
    if compression in _TIFF_COMPRESSIONS or (
        compression in _TIFF_BILEVEL_COMPRESSIONS and mode == "1"
    ):
        options["compression"] = compression
    elif compression in _TIFF_JPEG_COMPRESSIONS and mode in _TIFF_JPEG_MODES:
        options.update(compression="jpeg", quality=_LOSSY_QUALITY)
    for key in ("dpi", "icc_profile"):
        if page.info.get(key):
            options[key] = page.info[key]
    if georeferencing is not None:
        options["tiffinfo"] = georeferencing
    return options


# --- GIF -----------------------------------------------------------------------------------


def _gif_without_extensions(data: bytes) -> bytes:
    """The GIF's header, palettes, images and display extensions, byte for byte."""
    if data[:6] not in _GIF_SIGNATURES or len(data) < 13:
        raise UnreadableImage("not a GIF")
    position = 13 + _colour_table_size(data[10])
    kept = [data[:position]]
    while True:
        introducer = _byte(data, position)
        if introducer == _GIF_TRAILER:
            kept.append(bytes([_GIF_TRAILER]))  # and nothing hidden after it
            return b"".join(kept)
        if introducer == _GIF_IMAGE:
            # Descriptor (10 bytes), local colour table, LZW code size, data sub-blocks.
            table = _colour_table_size(_byte(data, position + 9))
            end = _sub_blocks_end(data, position + 10 + table + 1)
            kept.append(data[position:end])
        elif introducer == _GIF_EXTENSION:
            end = _sub_blocks_end(data, position + 2)
            if _gif_extension_displayed(data, position):
                kept.append(data[position:end])
        else:
            raise UnreadableImage(f"unknown GIF block {introducer:#x}")
        position = end


def _gif_extension_displayed(data: bytes, position: int) -> bool:
    label = _byte(data, position + 1)
    if label in (_GIF_GRAPHIC_CONTROL, _GIF_PLAIN_TEXT):
        return True
    # An application extension's first sub-block: 11 bytes of identifier and code.
    return label == _GIF_APPLICATION and data[position + 3 : position + 14] in (
        _GIF_KEPT_APPLICATIONS
    )


def _colour_table_size(flags: int) -> int:
    return 3 * 2 ** ((flags & 0x07) + 1) if flags & 0x80 else 0


def _sub_blocks_end(data: bytes, position: int) -> int:
    """Where the sub-blocks starting at ``position`` end, after their empty terminator."""
    while True:
        size = _byte(data, position)
        position += 1 + size
        if size == 0:
            return position


def _byte(data: bytes, position: int) -> int:
    if position >= len(data):
        raise UnreadableImage("truncated GIF")
    return data[position]
