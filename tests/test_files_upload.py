"""store_upload: good files kept, bad ones refused clearly and never left in the storage."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.utils import translation

from alzette.personal.files import services, views
from alzette.personal.files.models import ScanStatus, StoredFile
from alzette.personal.files.names import safe_name
from alzette.personal.files.services import FileRejected, store_upload
from tests.conftest import ALL_DATABASES
from tests.files_helpers import (
    HTML,
    CountingStream,
    jpeg_bytes,
    pdf_bytes,
    png_bytes,
    stored_paths,
    use_attachments_dir,
)

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

DOCUMENTS = ["application/pdf", "image/jpeg", "image/png"]


@pytest.fixture
def storage_dir(settings, tmp_path):
    return use_attachments_dir(settings, tmp_path / "attachments")


def _store(content: bytes, name: str, *, allowed=DOCUMENTS, max_bytes=1_000_000, owner=None):
    return store_upload(
        io.BytesIO(content), name, allowed_types=allowed, max_bytes=max_bytes, owner=owner
    )


def _refusal(content: bytes, name: str, **kwargs) -> FileRejected:
    with translation.override("en"), pytest.raises(FileRejected) as caught:
        _store(content, name, **kwargs)
    return caught.value


@pytest.mark.parametrize(
    ("content", "name", "content_type", "expected_name"),
    [
        (pdf_bytes(), "Reçu fiscal.pdf", "application/pdf", "Reçu fiscal.pdf"),
        (jpeg_bytes(), "photo dépôt.JPEG", "image/jpeg", "photo dépôt.jpeg"),
        (png_bytes(), "plan.png", "image/png", "plan.png"),
    ],
)
def test_a_good_file_is_kept_with_its_sniffed_type_hash_and_a_random_storage_name(
    storage_dir, citizen, content, name, content_type, expected_name
):
    stored = _store(content, name, owner=citizen)

    stored.refresh_from_db()
    assert (stored.name, stored.content_type, stored.size) == (
        expected_name,
        content_type,
        len(content),
    )
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert stored.owner == citizen
    assert stored.scan_status == ScanStatus.SKIPPED  # no antivirus configured in tests
    assert name.split(".")[0] not in stored.storage_name
    assert [path.relative_to(storage_dir).as_posix() for path in stored_paths(storage_dir)] == [
        stored.storage_name
    ]
    with services.open_stored(stored) as handle:
        assert handle.read() == content
    assert services.verify_stored(stored)


def test_anonymous_uploads_have_no_owner(storage_dir):
    assert _store(png_bytes(), "dépôt sauvage.png").owner is None


def test_a_form_that_already_read_the_upload_does_not_truncate_it(storage_dir):
    upload = SimpleUploadedFile("plan.png", png_bytes(), content_type="image/png")
    upload.read(10)
    stored = store_upload(upload, upload.name, allowed_types=DOCUMENTS, max_bytes=10_000)
    assert stored.size == len(png_bytes())


def test_an_oversized_stream_is_refused_after_reading_one_byte_past_the_limit(storage_dir):
    stream = CountingStream()  # endless, and it declares no size
    with translation.override("en"), pytest.raises(FileRejected) as caught:
        store_upload(stream, "big.pdf", allowed_types=DOCUMENTS, max_bytes=300_000)

    assert caught.value.code == "too_large"
    assert caught.value.messages == ["The file is too large: 0.3 MB at most."]
    assert stream.bytes_read == 300_001
    assert stored_paths(storage_dir) == []
    assert not StoredFile.objects.exists()


def test_a_file_exactly_at_the_limit_is_kept(storage_dir):
    content = png_bytes()
    assert _store(content, "plan.png", max_bytes=len(content)).size == len(content)


def test_a_declared_size_over_the_limit_is_refused_before_reading():
    upload = SimpleUploadedFile("big.pdf", pdf_bytes(b"x" * 2 * 1024 * 1024))
    with translation.override("en"), pytest.raises(FileRejected, match="2 MB at most"):
        store_upload(upload, "big.pdf", allowed_types=DOCUMENTS, max_bytes=2 * 1024 * 1024)
    assert upload.tell() == 0


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (png_bytes(), "attestation.pdf"),  # a PNG named .pdf, PNG not allowed here
        (HTML, "photo.jpg"),  # an HTML page disguised as a photo
        (b"MZ\x90\x00" + b"\0" * 60, "facture.pdf"),  # a Windows executable
        (b"plain text, no signature", "notes.pdf"),
    ],
)
def test_a_type_disguised_by_its_extension_is_refused_naming_the_accepted_types(
    storage_dir, content, name
):
    refusal = _refusal(content, name, allowed=["application/pdf", "image/jpeg"])

    assert refusal.code == "type_not_allowed"
    assert refusal.messages == ["This type of file is not accepted. Accepted types: PDF, JPEG."]
    assert stored_paths(storage_dir) == []
    assert not StoredFile.objects.exists()


def test_a_png_named_pdf_is_stored_as_a_png_when_png_is_allowed(storage_dir):
    stored = _store(png_bytes(), "attestation.pdf")
    assert (stored.content_type, stored.name) == ("image/png", "attestation.png")
    assert stored.storage_name.endswith(".png")


def test_the_client_s_content_type_is_ignored(storage_dir):
    upload = SimpleUploadedFile("page.pdf", HTML, content_type="application/pdf")
    with pytest.raises(FileRejected):
        store_upload(upload, upload.name, allowed_types=DOCUMENTS, max_bytes=10_000)


def test_an_empty_file_is_refused(storage_dir):
    refusal = _refusal(b"", "vide.pdf")
    assert (refusal.code, refusal.messages) == ("empty", ["The file is empty."])


def test_file_rejected_is_a_validation_error_for_forms():
    assert issubclass(FileRejected, ValidationError)


def test_asking_for_a_type_that_cannot_be_sniffed_is_a_programming_error(storage_dir):
    with pytest.raises(ValueError, match="text/html"):
        _store(HTML, "page.html", allowed=["text/html"])
    with pytest.raises(ValueError):
        _store(pdf_bytes(), "a.pdf", allowed=[])


def test_a_failing_row_leaves_nothing_in_the_storage(storage_dir, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise ValidationError("database says no")

    monkeypatch.setattr(StoredFile, "full_clean", refuse)
    with pytest.raises(ValidationError, match="database says no"):
        _store(pdf_bytes(), "a.pdf")
    assert stored_paths(storage_dir) == []


@pytest.mark.parametrize(
    ("original", "content_type", "expected"),
    [
        ("../../etc/passwd.pdf", "application/pdf", "passwd.pdf"),
        ("C:\\Users\\élise\\Reçu fiscal.pdf", "application/pdf", "Reçu fiscal.pdf"),
        ("fac\x00tu\nre\x1b.pdf", "application/pdf", "facture.pdf"),
        ("photo\u202egpj.exe", "image/jpeg", "photogpj.jpg"),  # right-to-left override
        ("E\u0301lise Mu\u0308ller.png", "image/png", "\u00c9lise M\u00fcller.png"),  # NFC
        ("São  João\u00a0Ëmmer.PNG", "image/png", "São João Ëmmer.png"),
        ("<script>x</script>.pdf", "application/pdf", "script.pdf"),
        ('<img src="x" onerror=a()>.pdf', "application/pdf", "img src=x onerror=a().pdf"),
        ("", "application/pdf", "document.pdf"),
        ("../", "application/pdf", "document.pdf"),
        ("..pdf", "application/pdf", "pdf.pdf"),
        ("rapport.tar.gz", "application/pdf", "rapport.tar.pdf"),
    ],
)
def test_names_lose_paths_control_characters_and_wrong_extensions(original, content_type, expected):
    assert safe_name(original, content_type) == expected


def test_long_names_are_cut_keeping_the_extension():
    name = safe_name("é" * 500 + ".pdf", "application/pdf")
    assert len(name) == 120
    assert name == "é" * 116 + ".pdf"


def test_the_stored_name_is_cleaned_too(storage_dir):
    stored = _store(pdf_bytes(), "../../../../tmp/évil\x00.pdf")
    assert stored.name == "évil.pdf"
    assert ".." not in stored.storage_name


def test_delete_removes_the_row_now_and_the_file_on_commit(
    storage_dir, django_capture_on_commit_callbacks
):
    stored = _store(pdf_bytes(), "a.pdf")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.delete_stored(stored)
    assert not StoredFile.objects.exists()
    assert len(stored_paths(storage_dir)) == 1  # not before the commit
    for callback in callbacks:
        callback()
    assert stored_paths(storage_dir) == []


def test_download_headers_force_a_sandboxed_attachment(storage_dir):
    stored = _store(pdf_bytes(), "Reçu «fiscal».pdf")
    headers = services.file_response_headers(stored)

    assert headers["Content-Disposition"] == (
        "attachment; filename=\"Recu fiscal.pdf\"; filename*=UTF-8''Re%C3%A7u%20fiscal.pdf"
    )
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Length"] == str(stored.size)
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"].startswith("sandbox")
    assert "no-store" in headers["Cache-Control"]


def test_a_name_with_quotes_cannot_break_the_header():
    assert services.content_disposition('a"; filename="evil.html') == (
        'attachment; filename="a; filename=evil.html"; '
        "filename*=UTF-8''a%22%3B%20filename%3D%22evil.html"
    )


def test_serve_streams_the_file_with_the_headers(storage_dir):
    content = png_bytes((64, 64))
    stored = _store(content, "São João.png")

    response = views.serve(RequestFactory().get("/"), stored)

    assert response.streaming
    assert b"".join(response.streaming_content) == content
    for header, value in services.file_response_headers(stored).items():
        assert response[header] == value


def test_my_data_lists_the_person_s_files_without_their_content(storage_dir, citizen):
    from alzette.personal.mydata.services import collect

    stored = _store(pdf_bytes(), "Reçu.pdf", owner=citizen)
    _store(pdf_bytes(), "anonymous.pdf")

    rows = collect(citizen)["attachments"]

    assert rows == [
        {
            "name": "Reçu.pdf",
            "content_type": "application/pdf",
            "size": stored.size,
            "sha256": stored.sha256,
            "uploaded_at": stored.created_at,
        }
    ]


def test_verify_notices_bytes_changed_in_the_storage(storage_dir):
    stored = _store(pdf_bytes(), "a.pdf")
    (storage_dir / stored.storage_name).write_bytes(pdf_bytes(b"altered"))
    assert not services.verify_stored(stored)


def test_a_name_without_latin_letters_gets_an_ascii_fallback():
    assert services.content_disposition("日本.pdf") == (
        "attachment; filename=\"document.pdf\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.pdf"
    )
