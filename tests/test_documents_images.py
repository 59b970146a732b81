"""Photographs published to the document store lose their EXIF, XMP and comments
before they are hashed, stored and recorded: published documents are open data."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image, ImageCms, ImageSequence, PngImagePlugin

from alzette.ledger.entries import opens
from alzette.ledger.models import LedgerEntry
from alzette.territory.documents import services
from alzette.territory.documents.errors import DocumentError
from alzette.territory.documents.models import Document, LedgerRecord
from tests import test_documents_samples as samples
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

BASE = "/api/v1/territory/documents"
AUDUN = "57038"
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">Marie Dupont, 12 rue des Lilas</x:xmpmeta>'
SECRETS = (b"Pear Phone", b"SN-000123", b"Marie Dupont", b"a comment")
GPS = {1: "N", 2: (49.0, 28.0, 12.5), 3: "E", 4: (5.0, 58.0, 30.0)}


@pytest.fixture(autouse=True)
def store(settings, tmp_path):
    return samples.use_document_store(settings, tmp_path)


def exif(orientation: int = 1) -> Image.Exif:
    tags = Image.Exif()
    tags[0x010F] = "Pear Phone"  # Make
    tags[0xA431] = "SN-000123"  # BodySerialNumber
    tags[0x0112] = orientation
    tags[0x8825] = GPS  # GPSInfo
    return tags


def picture(format_name: str, size=(40, 20), **options) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, format_name, **options)
    return buffer.getvalue()


def post(actor, content: bytes, name: str, **headers):
    data = {
        "licence": "etalab-2.0",
        "language": "fr",
        "communes": [AUDUN],
        "file": SimpleUploadedFile(name, content, content_type="application/octet-stream"),
    }
    client = Client(HTTP_ACCEPT="application/json")
    client.force_login(actor)
    return client.post(BASE, data, **headers)


def publish(actor, content: bytes, name: str) -> Document:
    return services.publish(
        io.BytesIO(content),
        name,
        actor=actor,
        licence="etalab-2.0",
        language="fr",
        communes=[AUDUN],
    )


def stored(store) -> bytes:
    [path] = samples.stored_files(store)
    return path.read_bytes()


def assert_clean(kept: bytes) -> Image.Image:
    for secret in SECRETS:
        assert secret not in kept
    image = Image.open(io.BytesIO(kept))
    assert dict(image.getexif()) == {}
    assert image.getexif().get_ifd(0x8825) == {}
    assert "xmp" not in image.info and "comment" not in image.info
    return image


def test_a_published_photo_is_stored_without_gps_and_described_by_what_is_stored(
    store, agent_audun
):
    photo = picture("JPEG", exif=exif(orientation=6), xmp=XMP, comment=b"a comment")
    assert all(secret in photo for secret in SECRETS)  # the test photo does carry them
    assert Image.open(io.BytesIO(photo)).getexif().get_ifd(0x8825)[2] == (49.0, 28.0, 12.5)

    response = post(agent_audun, photo, "façade.jpg")

    assert response.status_code == 201, response.content
    body, kept = response.json(), stored(store)
    image = assert_clean(kept)
    assert image.format == "JPEG"
    assert image.size == (20, 40)  # "turn 90° to display" applied to the pixels
    assert (body["technical"]["width"], body["technical"]["height"]) == (20, 40)
    assert body["size"] == len(kept) != len(photo)
    assert body["sha256"] == hashlib.sha256(kept).hexdigest()
    document = Document.objects.get()
    assert services.open_file(document).read() == kept
    [record] = LedgerRecord.objects.all()
    assert (record.payload["sha256"], record.payload["size"]) == (body["sha256"], len(kept))
    entry = LedgerEntry.objects.using("ledger").get(index=record.leaf_index)
    assert opens(entry.commitment, record.payload, record.salt)
    download = Client().get(f"{BASE}/{document.pk}/file")
    assert b"".join(download.streaming_content) == kept
    assert download["ETag"] == f'"{body["sha256"]}"'


def test_the_same_photo_twice_is_still_a_duplicate(agent_audun):
    photo = picture("JPEG", exif=exif(), xmp=XMP)
    first = publish(agent_audun, photo, "a.jpg")
    with pytest.raises(DocumentError) as caught:
        publish(agent_audun, photo, "b.jpg")
    assert caught.value.code == "duplicate"
    assert caught.value.details == {"document": str(first.pk)}


def test_a_png_loses_its_text_chunks_and_keeps_its_profile_and_resolution(store, agent_audun):
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "Marie Dupont")
    text.add_itxt("XML:com.adobe.xmp", XMP.decode())
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    plan = picture("PNG", exif=exif(), pnginfo=text, icc_profile=profile, dpi=(300, 300))

    document = publish(agent_audun, plan, "plan.png")

    kept = stored(store)
    image = assert_clean(kept)
    assert image.text == {}
    assert image.info["icc_profile"] == profile
    assert document.technical["dpi"] == [300.0, 300.0]
    assert document.sha256 == hashlib.sha256(kept).hexdigest()
    assert document.size == len(kept)


def test_a_tiff_loses_its_gps_and_owner_and_keeps_its_pages(store, agent_audun):
    # Pillow writes GPS tags only without compression; the owner in Artist, a note in
    # ImageDescription, an XMP packet: a scanner's or a camera's TIFF.
    scan = io.BytesIO()
    first = Image.new("RGB", (40, 20), (30, 120, 200))
    first.save(
        scan,
        "TIFF",
        exif=exif().tobytes(),
        artist="Marie Dupont",
        description="a comment",
        xmp=XMP,
        dpi=(300, 300),
        save_all=True,
        append_images=[Image.new("L", (10, 10), 128)],
    )
    content = scan.getvalue()
    assert b"Marie Dupont" in content and b"Pear Phone" in content

    document = publish(agent_audun, content, "scan.tif")

    kept = stored(store)
    for secret in SECRETS:
        assert secret not in kept
    image = Image.open(io.BytesIO(kept))
    assert image.format == "TIFF"
    for page in ImageSequence.Iterator(image):
        # What remains are the tags that describe the raster (size, compression, strips...).
        assert not {0x010E, 0x010F, 0x013B, 700, 0x8769, 0x8825} & set(page.tag_v2)
    assert [(page.mode, page.size) for page in ImageSequence.Iterator(image)] == [
        ("RGB", (40, 20)),
        ("L", (10, 10)),
    ]
    assert document.technical["frames"] == 2
    assert document.technical["dpi"] == [300.0, 300.0]
    assert document.sha256 == hashlib.sha256(kept).hexdigest()


def test_a_gif_loses_its_comment_and_keeps_its_frames(store, agent_audun):
    frames = [Image.new("RGB", (8, 8), colour) for colour in ("red", "green", "blue")]
    buffer = io.BytesIO()
    frames[0].save(
        buffer, "GIF", save_all=True, append_images=frames[1:], loop=0, comment=b"Marie Dupont"
    )

    assert b"Marie Dupont" in buffer.getvalue()

    document = publish(agent_audun, buffer.getvalue(), "animation.gif")

    kept = stored(store)
    assert b"Marie Dupont" not in kept
    image = Image.open(io.BytesIO(kept))
    assert image.n_frames == 3 and image.info["loop"] == 0
    assert document.technical["frames"] == 3


def test_a_pdf_is_stored_byte_for_byte(store, agent_audun):
    content = samples.pdf("Rapport")
    publish(agent_audun, content, "rapport.pdf")
    assert stored(store) == content


@pytest.mark.parametrize("format_name", ["JPEG", "PNG", "WEBP", "TIFF", "GIF"])
def test_an_image_that_does_not_decode_is_a_corrupt_problem(store, agent_audun, format_name):
    buffer = io.BytesIO()
    Image.effect_noise((64, 64), 60).convert("RGB").save(buffer, format_name)
    broken = buffer.getvalue()[: len(buffer.getvalue()) // 2]  # cut in the pixels

    response = post(agent_audun, broken, "photo", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "corrupt"
    assert body["type"].endswith("/documents/corrupt")
    assert body["detail"].startswith("The file cannot be read as ")
    assert Document.objects.count() == 0 and samples.stored_files(store) == []


def test_a_decompression_bomb_is_a_too_many_pixels_problem(store, agent_audun, monkeypatch):
    # Pillow refuses images of more than twice MAX_IMAGE_PIXELS as bombs.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)

    response = post(agent_audun, picture("PNG"), "bomb.png", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 422, response.content
    body = response.json()
    assert (body["code"], body["media_type"]) == ("too_many_pixels", "image/png")
    assert body["type"].endswith("/documents/too-many-pixels")
    assert body["detail"] == "The image is too large: 180 million pixels at most."
    assert Document.objects.count() == 0 and samples.stored_files(store) == []
    assert LedgerRecord.objects.count() == 0
