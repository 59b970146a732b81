"""alzette.core.images: what each format keeps and loses when it is rewritten."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageSequence, TiffImagePlugin, TiffTags

from alzette.core import images

GPS = {1: "N", 2: (49.0, 28.0, 12.5), 3: "E", 4: (5.0, 58.0, 30.0)}
PRIVATE_TIFF_TAGS = {0x010E, 0x010F, 0x0110, 0x013B, 0x8298, 700, 33723, 34377, 0x8769, 0x8825}


def exif(orientation: int = 1, gps: bool = True) -> bytes:
    tags = Image.Exif()
    tags[0x010F] = "Pear Phone"  # Make
    tags[0x0112] = orientation
    if gps:
        tags[0x8825] = GPS
    return tags.tobytes()


def encoded(image: Image.Image, format_name: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format_name, **options)
    return buffer.getvalue()


def noise(size=(32, 16), mode="RGB") -> Image.Image:
    return Image.effect_noise(size, 60).convert(mode)


def clean(content: bytes, media_type: str, **options) -> bytes:
    result = images.without_metadata(io.BytesIO(content), media_type, **options)
    assert result is not None
    return result


def opened(content: bytes) -> Image.Image:
    return Image.open(io.BytesIO(content))


def frames_of(image: Image.Image) -> list[bytes]:
    return [frame.convert("RGB").tobytes() for frame in ImageSequence.Iterator(image)]


def webp_bitstream(content: bytes) -> bytes:
    return b"VP8L" if b"VP8L" in content[12:64] else b"VP8 "


# --- Every format ------------------------------------------------------------------------


def test_other_types_are_not_rewritten_and_the_stream_is_rewound():
    source = io.BytesIO(b"%PDF-1.4 Marie Dupont")
    source.seek(5)
    assert images.without_metadata(source, "application/pdf") is None
    photo = io.BytesIO(encoded(noise(), "JPEG", exif=exif()))
    images.without_metadata(photo, "image/jpeg")
    assert photo.tell() == 0


@pytest.mark.parametrize("media_type", sorted(images.FORMATS))
def test_an_image_with_more_pixels_than_the_limit_is_refused(media_type):
    content = encoded(noise(), images.FORMATS[media_type])
    clean(content, media_type, max_pixels=32 * 16)  # at the limit: accepted
    with pytest.raises(images.TooManyPixels):
        clean(content, media_type, max_pixels=32 * 16 - 1)


@pytest.mark.parametrize("media_type", sorted(images.FORMATS))
def test_bytes_that_do_not_decode_are_unreadable(media_type):
    content = encoded(noise((64, 64)), images.FORMATS[media_type])
    with pytest.raises(images.UnreadableImage):
        clean(content[: len(content) // 2], media_type)
    with pytest.raises(images.UnreadableImage):
        clean(b"\x89PNG\r\n\x1a\n" + b"\0" * 50, media_type)


def test_what_follows_the_end_of_the_image_goes():
    for media_type, format_name in images.FORMATS.items():
        content = encoded(noise(), format_name) + b"Marie Dupont"
        assert b"Marie Dupont" not in clean(content, media_type), media_type


# --- JPEG, PNG, WebP ----------------------------------------------------------------------


def test_a_multi_picture_jpeg_keeps_only_its_primary_picture():
    primary, preview = noise(), Image.new("RGB", (8, 8), "red")
    content = encoded(primary, "MPO", save_all=True, append_images=[preview], exif=exif())

    kept = opened(clean(content, "image/jpeg"))

    assert (kept.format, getattr(kept, "n_frames", 1), kept.size) == ("JPEG", 1, (32, 16))
    assert dict(kept.getexif()) == {}


@pytest.mark.parametrize(
    ("media_type", "format_name"), [("image/png", "PNG"), ("image/webp", "WEBP")]
)
def test_a_turned_png_or_webp_is_turned_in_its_pixels(media_type, format_name):
    content = encoded(noise(), format_name, exif=exif(orientation=6), lossless=True)
    kept = opened(clean(content, media_type))
    assert kept.size == (16, 32)
    assert dict(kept.getexif()) == {}


def test_a_lossless_webp_stays_lossless_and_a_lossy_one_lossy():
    picture = noise()
    lossless = encoded(picture, "WEBP", lossless=True, exif=exif(), xmp=b"<x>Marie Dupont</x>")
    kept = clean(lossless, "image/webp")
    assert webp_bitstream(kept) == b"VP8L"
    assert opened(kept).convert("RGB").tobytes() == picture.tobytes()
    assert b"Marie Dupont" not in kept and b"Pear Phone" not in kept
    lossy = encoded(picture, "WEBP", quality=80, exif=exif())
    assert webp_bitstream(clean(lossy, "image/webp")) == b"VP8 "


def test_an_animated_png_keeps_its_frames_and_they_count_against_the_limit():
    frames = [Image.new("RGB", (10, 10), colour) for colour in ("red", "green", "blue")]
    content = encoded(frames[0], "PNG", save_all=True, append_images=frames[1:], exif=exif())

    kept = opened(clean(content, "image/png"))

    assert frames_of(kept) == [frame.tobytes() for frame in frames]
    with pytest.raises(images.TooManyPixels):
        clean(content, "image/png", max_pixels=299)


# --- TIFF ----------------------------------------------------------------------------------


def tiff_pages(content: bytes) -> list[tuple[str, tuple[int, int], str]]:
    return [
        (page.mode, page.size, page.info.get("compression"))
        for page in ImageSequence.Iterator(opened(content))
    ]


def test_a_tiff_loses_every_tag_that_does_not_describe_its_raster():
    content = encoded(
        noise(),
        "TIFF",
        exif=exif(),
        artist="Marie Dupont",
        description="Rue des Lilas",
        software="Scanner 3000",
        copyright="Marie Dupont",
        xmp=b"<x>Marie Dupont</x>",
        dpi=(300, 300),
    )
    assert opened(content).getexif().get_ifd(0x8825)

    kept = clean(content, "image/tiff")

    for secret in (b"Marie Dupont", b"Rue des Lilas", b"Pear Phone", b"Scanner 3000"):
        assert secret not in kept
    image = opened(kept)
    assert not PRIVATE_TIFF_TAGS & set(image.tag_v2)
    assert image.getexif().get_ifd(0x8825) == {}
    assert image.info["dpi"] == (300.0, 300.0)
    assert image.tobytes() == opened(content).tobytes()


def test_each_tiff_page_keeps_its_own_compression():
    first = noise((32, 16))
    pages = [noise((16, 8), "L"), Image.new("1", (64, 32), 1)]
    buffer = io.BytesIO()
    with TiffImagePlugin.AppendingTiffWriter(buffer) as writer:
        for page, compression in zip(
            [first, *pages], ["tiff_lzw", "packbits", "group4"], strict=True
        ):
            page.save(writer, "TIFF", compression=compression, artist="Marie Dupont")
            writer.newFrame()
    content = buffer.getvalue()

    kept = clean(content, "image/tiff")

    assert b"Marie Dupont" not in kept
    assert tiff_pages(kept) == tiff_pages(content)
    assert frames_of(opened(kept)) == frames_of(opened(content))


def test_a_jpeg_compressed_tiff_stays_jpeg_compressed():
    content = encoded(noise(), "TIFF", compression="jpeg", artist="Marie Dupont")
    kept = clean(content, "image/tiff")
    assert b"Marie Dupont" not in kept
    assert tiff_pages(kept) == [("RGB", (32, 16), "jpeg")]


def test_a_turned_tiff_page_is_turned_in_its_pixels():
    kept = opened(clean(encoded(noise(), "TIFF", exif=exif(orientation=6)), "image/tiff"))
    assert kept.size == (16, 32)
    assert 0x0112 not in kept.tag_v2


def test_a_geotiff_keeps_its_georeferencing():
    geo = TiffImagePlugin.ImageFileDirectory_v2()
    tags = {
        33550: ((0.5, 0.5, 0.0), TiffTags.DOUBLE),  # ModelPixelScale
        33922: ((0.0, 0.0, 0.0, 925000.0, 6920000.0, 0.0), TiffTags.DOUBLE),  # ModelTiepoint
        34735: ((1, 1, 0, 1, 3072, 0, 1, 2154), TiffTags.SHORT),  # GeoKeyDirectory: Lambert-93
        34737: ("RGF93 / Lambert-93|", TiffTags.ASCII),  # GeoAsciiParams
        0x013B: ("Marie Dupont", TiffTags.ASCII),  # Artist
    }
    for tag, (value, kind) in tags.items():
        geo[tag], geo.tagtype[tag] = value, kind
    content = encoded(noise(), "TIFF", tiffinfo=geo, compression="tiff_lzw")

    kept = opened(clean(content, "image/tiff"))

    for tag in (33550, 33922, 34735, 34737):
        assert kept.tag_v2[tag] == tags[tag][0]
    assert 0x013B not in kept.tag_v2


def test_a_tiff_page_above_the_limit_is_refused_whichever_page_it_is():
    buffer = io.BytesIO()
    noise((4, 4)).save(buffer, "TIFF", save_all=True, append_images=[noise((40, 40))])
    clean(buffer.getvalue(), "image/tiff", max_pixels=1600)
    with pytest.raises(images.TooManyPixels):
        clean(buffer.getvalue(), "image/tiff", max_pixels=1599)


# --- GIF -----------------------------------------------------------------------------------


def application_extension(identifier: bytes, data: bytes) -> bytes:
    chunks = [data[start : start + 255] for start in range(0, len(data), 255)]
    return b"\x21\xff\x0b" + identifier + b"".join(bytes([len(c)]) + c for c in chunks) + b"\x00"


def test_a_gif_loses_comments_and_foreign_extensions_and_keeps_its_animation():
    frames = [Image.new("RGB", (8, 8), colour) for colour in ("red", "green", "blue")]
    animation = encoded(
        frames[0], "GIF", save_all=True, append_images=frames[1:], loop=2, duration=150
    )
    xmp = application_extension(b"XMP DataXMP", b"<x:xmpmeta>Marie Dupont</x:xmpmeta>")
    profile = application_extension(b"ICCRGBG1012", b"\x00" * 300)
    comment = b"\x21\xfe" + bytes([len(b"Rue des Lilas")]) + b"Rue des Lilas" + b"\x00"
    content = animation[:-1] + xmp + comment + profile + b";" + b"Pear Phone"

    kept = clean(content, "image/gif")

    assert kept == animation[:-1] + profile + b";"
    image = opened(kept)
    assert frames_of(image) == frames_of(opened(animation))
    assert (image.info["loop"], image.info["duration"]) == (2, 150)


SCREEN = b"GIF89a\x08\x00\x08\x00\x00\x00\x00"  # 8 x 8, no colour table


@pytest.mark.parametrize(
    "content",
    [
        b"GIF89a",
        SCREEN,
        SCREEN + b"\x2c\x00\x00",
        SCREEN + b"!\xfe\x05abc",
        SCREEN + b"\x99",
    ],
    ids=["header-only", "no-trailer", "cut-in-an-image", "cut-in-a-comment", "unknown-block"],
)
def test_a_gif_cut_short_is_unreadable(content):
    with pytest.raises(images.UnreadableImage):
        clean(content, "image/gif")
