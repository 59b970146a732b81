"""Photos are kept without the metadata that could name or locate who sent them."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.utils import translation
from PIL import Image, ImageCms, PngImagePlugin

from alzette.personal.files import services
from alzette.personal.files.models import StoredFile
from alzette.personal.files.services import FileRejected, store_upload
from tests.conftest import ALL_DATABASES
from tests.files_helpers import pdf_bytes, stored_paths, use_attachments_dir

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

PHOTOS = ["image/jpeg", "image/png", "image/webp", "application/pdf"]
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">Marie Dupont, 12 rue des Lilas</x:xmpmeta>'
SECRETS = (b"Pear Phone", b"SN-000123", b"Marie Dupont", b"a comment")


@pytest.fixture
def storage_dir(settings, tmp_path):
    return use_attachments_dir(settings, tmp_path / "attachments")


def _exif(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Pear Phone"  # Make
    exif[0xA431] = "SN-000123"  # BodySerialNumber
    exif[0x0112] = orientation
    exif[0x8825] = {1: "N", 2: (49.0, 28.0, 12.5), 3: "E", 4: (5.0, 58.0, 30.0)}  # GPS
    return exif.tobytes()


def _photo(format_name: str, size=(40, 20), **options) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, format_name, **options)
    return buffer.getvalue()


def _kept(content: bytes, name: str) -> tuple[StoredFile, bytes]:
    stored = store_upload(io.BytesIO(content), name, allowed_types=PHOTOS, max_bytes=1_000_000)
    with services.open_stored(stored) as handle:
        return stored, handle.read()


def _assert_clean(kept: bytes) -> Image.Image:
    for secret in SECRETS:
        assert secret not in kept
    image = Image.open(io.BytesIO(kept))
    assert dict(image.getexif()) == {}
    assert "xmp" not in image.info
    assert "comment" not in image.info
    return image


def test_a_jpeg_loses_its_gps_device_xmp_and_comment(storage_dir):
    photo = _photo("JPEG", exif=_exif(), xmp=XMP, comment=b"a comment")
    assert all(secret in photo for secret in SECRETS)  # the test photo does carry them

    stored, kept = _kept(photo, "dépôt.jpg")

    image = _assert_clean(kept)
    assert image.size == (40, 20)
    assert stored.size == len(kept)
    assert stored.sha256 == hashlib.sha256(kept).hexdigest()
    assert services.verify_stored(stored)


def test_a_turned_jpeg_is_turned_in_its_pixels_and_stays_upright(storage_dir):
    photo = _photo("JPEG", exif=_exif(orientation=6))  # "rotate 90° clockwise to display"

    _stored, kept = _kept(photo, "photo.jpg")

    assert _assert_clean(kept).size == (20, 40)


def test_a_png_loses_its_exif_and_text_chunks_but_keeps_its_colour_profile(storage_dir):
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "Marie Dupont")
    text.add_itxt("XML:com.adobe.xmp", XMP.decode())
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    photo = _photo("PNG", exif=_exif(), pnginfo=text, icc_profile=profile)

    _stored, kept = _kept(photo, "plan.png")

    image = _assert_clean(kept)
    assert image.text == {}
    assert image.info["icc_profile"] == profile


def test_a_webp_loses_its_exif_and_xmp(storage_dir):
    photo = _photo("WEBP", exif=_exif(), xmp=XMP)
    assert b"Pear Phone" in photo

    _stored, kept = _kept(photo, "photo.webp")

    assert _assert_clean(kept).format == "WEBP"


def test_a_pdf_is_kept_byte_for_byte(storage_dir):
    content = pdf_bytes(b"% Author: Marie Dupont")
    _stored, kept = _kept(content, "formulaire.pdf")
    assert kept == content


def test_a_photo_that_does_not_decode_is_refused_and_nothing_is_kept(storage_dir):
    broken = _photo("JPEG")[:200]  # the signature and headers, then nothing
    with translation.override("en"), pytest.raises(FileRejected) as caught:
        _kept(broken, "photo.jpg")

    assert caught.value.code == "unreadable_image"
    assert caught.value.messages == ["The image cannot be read. Please send another copy of it."]
    assert stored_paths(storage_dir) == []
    assert not StoredFile.objects.exists()


def test_a_decompression_bomb_is_refused(storage_dir, monkeypatch):
    # Pillow refuses images of more than twice MAX_IMAGE_PIXELS as bombs.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with translation.override("en"), pytest.raises(FileRejected) as caught:
        _kept(_photo("PNG", size=(40, 20)), "bomb.png")

    assert caught.value.code == "too_many_pixels"
    assert stored_paths(storage_dir) == []
