"""Files whose row was rolled back with the caller's transaction are purged later."""

from __future__ import annotations

import io
import os
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction

from alzette.core.repositories import PERSONAL
from alzette.personal.files.models import StoredFile
from alzette.personal.files.services import purge_orphans, store_upload
from tests.conftest import ALL_DATABASES
from tests.files_helpers import pdf_bytes, stored_paths, use_attachments_dir

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


@pytest.fixture
def storage_dir(settings, tmp_path):
    return use_attachments_dir(settings, tmp_path / "attachments")


def _store():
    return store_upload(
        io.BytesIO(pdf_bytes()), "a.pdf", allowed_types=["application/pdf"], max_bytes=10_000
    )


def _age(path, hours: int) -> None:
    past = time.time() - hours * 3600
    os.utime(path, (past, past))


def test_a_rolled_back_caller_leaves_an_orphan_that_the_purge_deletes(storage_dir):
    kept = _store()
    with pytest.raises(RuntimeError), transaction.atomic(using=PERSONAL):
        _store()
        raise RuntimeError("the procedure could not be saved")
    assert StoredFile.objects.count() == 1
    assert len(stored_paths(storage_dir)) == 2
    for path in stored_paths(storage_dir):
        _age(path, 48)

    orphans = purge_orphans()

    assert len(orphans) == 1
    assert orphans[0] != kept.storage_name
    remaining = [path.relative_to(storage_dir).as_posix() for path in stored_paths(storage_dir)]
    assert remaining == [kept.storage_name]


def test_young_orphans_and_dry_runs_delete_nothing(storage_dir):
    stray = storage_dir / "2026" / "01" / "stray.pdf"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"%PDF")

    assert purge_orphans() == []  # too young: its row may be on its way
    _age(stray, 48)
    assert purge_orphans(dry_run=True) == ["2026/01/stray.pdf"]
    assert stray.exists()
    assert purge_orphans(older_than=timedelta(hours=72)) == []


def test_the_command_purges_and_reports(storage_dir, capsys):
    stray = storage_dir / "stray.pdf"
    storage_dir.mkdir(parents=True)
    stray.write_bytes(b"%PDF")
    _age(stray, 30)

    call_command("purgeattachments", "--older-than-hours", "24")

    assert not stray.exists()
    captured = capsys.readouterr()
    assert captured.out.strip() == "stray.pdf"
    assert "1 orphan file(s) deleted." in captured.err


def test_an_empty_storage_is_not_an_error(storage_dir):
    assert purge_orphans() == []
