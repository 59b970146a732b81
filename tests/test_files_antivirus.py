"""The clamd hook, against a fake clamd speaking INSTREAM over a real socket."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from alzette.personal.files import clamav
from alzette.personal.files.conf import clamd_url
from alzette.personal.files.models import ScanStatus, StoredFile
from alzette.personal.files.services import FileRejected, store_upload
from tests.conftest import ALL_DATABASES
from tests.files_helpers import (
    EICAR,
    EICAR_SIGNATURE,
    FakeClamdServer,
    closed_port_url,
    pdf_bytes,
    stored_paths,
    use_attachments_dir,
)

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


@pytest.fixture
def storage_dir(settings, tmp_path):
    settings.ALZETTE_CLAMD_TIMEOUT = 2
    return use_attachments_dir(settings, tmp_path / "attachments")


@pytest.fixture
def clamd(settings, storage_dir):
    with FakeClamdServer() as server:
        settings.ALZETTE_CLAMD_URL = server.url
        settings.ALZETTE_CLAMD_REQUIRED = True
        yield server


def _store(content: bytes):
    with translation.override("en"):
        return store_upload(
            io.BytesIO(content), "pièce.pdf", allowed_types=["application/pdf"], max_bytes=10**6
        )


def test_a_clean_file_is_scanned_whole_in_chunks_and_marked_clean(clamd, storage_dir):
    content = pdf_bytes(b"x" * 200_000)

    stored = _store(content)

    assert stored.scan_status == ScanStatus.CLEAN
    assert clamd.commands == [b"zINSTREAM\0"]
    assert clamd.streams == [content]
    assert len(clamd.chunk_sizes[0]) == 4  # 64 KiB chunks
    assert max(clamd.chunk_sizes[0]) == clamav.CHUNK_SIZE
    assert len(stored_paths(storage_dir)) == 1


def test_eicar_is_refused_with_the_signature_and_nothing_is_stored(clamd, storage_dir):
    with pytest.raises(FileRejected) as caught:
        _store(pdf_bytes(EICAR))

    assert caught.value.code == "infected"
    assert caught.value.messages == [
        f"The file was refused: the antivirus found {EICAR_SIGNATURE} in it."
    ]
    assert stored_paths(storage_dir) == []
    assert not StoredFile.objects.exists()


def test_clamd_down_and_required_refuses_the_upload(settings, storage_dir):
    settings.ALZETTE_CLAMD_URL = closed_port_url()
    settings.ALZETTE_CLAMD_REQUIRED = True

    with pytest.raises(FileRejected) as caught:
        _store(pdf_bytes())

    assert caught.value.code == "antivirus_unavailable"
    assert caught.value.messages == [
        "The file could not be checked for viruses just now. Please try again later."
    ]
    assert stored_paths(storage_dir) == []
    assert not StoredFile.objects.exists()


def test_clamd_down_and_not_required_stores_the_file_marked_unscanned(settings, storage_dir):
    settings.ALZETTE_CLAMD_URL = closed_port_url()
    settings.ALZETTE_CLAMD_REQUIRED = False

    stored = _store(pdf_bytes())

    assert stored.scan_status == ScanStatus.UNAVAILABLE
    assert len(stored_paths(storage_dir)) == 1


def test_a_clamd_that_never_answers_times_out_and_counts_as_down(clamd, settings, storage_dir):
    clamd.silent = True
    settings.ALZETTE_CLAMD_TIMEOUT = 0.3

    with pytest.raises(FileRejected) as caught:
        _store(pdf_bytes())

    assert caught.value.code == "antivirus_unavailable"
    assert stored_paths(storage_dir) == []


def test_an_error_answer_is_never_taken_for_clean(clamd, storage_dir):
    clamd.reply = "INSTREAM size limit exceeded. ERROR"

    with pytest.raises(FileRejected) as caught:
        _store(pdf_bytes())

    assert caught.value.code == "antivirus_unavailable"
    assert stored_paths(storage_dir) == []


def test_the_client_speaks_to_clamd_over_a_unix_socket(tmp_path):
    with FakeClamdServer(unix_path=tmp_path / "clamd.ctl") as server:
        assert clamav.instream(server.url, io.BytesIO(EICAR), timeout=2) == EICAR_SIGNATURE
        assert clamav.instream(server.url, io.BytesIO(b"hello"), timeout=2) is None
    assert server.streams == [EICAR, b"hello"]


def test_no_antivirus_configured_means_skipped(storage_dir):
    assert _store(pdf_bytes()).scan_status == ScanStatus.SKIPPED


@pytest.mark.parametrize("url", ["http://clamav:3310", "clamav:3310", "unix://relative/path"])
def test_a_malformed_clamd_url_stops_the_start(url):
    with pytest.raises(ImproperlyConfigured, match="ALZETTE_CLAMD_URL"):
        clamd_url(url)


@pytest.mark.parametrize("url", ["", "tcp://clamav:3310", "unix:///run/clamav/clamd.ctl"])
def test_well_formed_clamd_urls_are_accepted(url):
    assert clamd_url(url) == url
