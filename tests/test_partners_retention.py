"""The partners' access log is kept ALZETTE_PARTNERS_ACCESS_LOG_DAYS (365) days: the
purge by chunks, its command, job and system check, and the owners' page saying so."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.utils import timezone

from alzette.core import jobs
from alzette.territory.catalogue.models import Organisation
from alzette.territory.partners import services
from alzette.territory.partners.checks import check_access_log_retention
from alzette.territory.partners.models import AccessLog
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)
DB = "territory"


def _entry(days_ago: float, subject: str = "bacs") -> AccessLog:
    entry = AccessLog.objects.using(DB).create(subject=subject, action="GET /x", allowed=True)
    AccessLog.objects.using(DB).filter(pk=entry.pk).update(
        at=timezone.now() - timedelta(days=days_ago)
    )
    return entry


def _left() -> list[str]:
    return sorted(AccessLog.objects.using(DB).values_list("subject", flat=True))


def test_the_default_keeps_one_year(settings):
    if hasattr(settings, "ALZETTE_PARTNERS_ACCESS_LOG_DAYS"):
        del settings.ALZETTE_PARTNERS_ACCESS_LOG_DAYS
    assert services.access_log_days() == services.ACCESS_LOG_DAYS == 365


def test_entries_older_than_the_retention_go_by_chunks(settings, monkeypatch):
    settings.ALZETTE_PARTNERS_ACCESS_LOG_DAYS = 30
    monkeypatch.setattr(services, "PURGE_CHUNK", 2)  # five old entries: three statements
    for n in range(5):
        _entry(31 + n, subject=f"old-{n}")
    _entry(29, subject="recent")
    _entry(0, subject="today")
    assert services.purge_access_log() == 5
    assert _left() == ["recent", "today"]
    assert services.purge_access_log() == 0  # nothing left to do


def test_the_boundary_is_the_retention_itself(settings):
    settings.ALZETTE_PARTNERS_ACCESS_LOG_DAYS = 30
    now = timezone.now()
    _entry(30 - 1 / 24, subject="inside")
    assert services.purge_access_log(now=now) == 0
    assert services.purge_access_log(now=now + timedelta(hours=2)) == 1


def test_a_bad_retention_is_refused_everywhere(settings):
    for bad in (0, -3, "365", 1.5, True):
        settings.ALZETTE_PARTNERS_ACCESS_LOG_DAYS = bad
        [error] = check_access_log_retention()
        assert error.id == "partners.E001"
        with pytest.raises(ImproperlyConfigured):
            services.access_log_days()
    with pytest.raises(ValueError):
        services.purge_access_log(days=0)
    settings.ALZETTE_PARTNERS_ACCESS_LOG_DAYS = 90
    assert check_access_log_retention() == []


def test_the_command_and_the_nightly_job(settings, capsys):
    settings.ALZETTE_PARTNERS_ACCESS_LOG_DAYS = 30
    _entry(40, subject="old")
    _entry(10, subject="ten-days")
    call_command("partners", "purge-access-log")
    assert capsys.readouterr().out.strip() == "1 access-log entries older than 30 days deleted"
    call_command("partners", "purge-access-log", "--days", "5")
    assert _left() == []
    with pytest.raises(CommandError):
        call_command("partners", "purge-access-log", "--days", "0")
    job = next(j for j in jobs.JOBS if j.name == "partners-access-log")
    assert job.command == ("partners", "purge-access-log") and not jobs.problems((job,))


def test_owners_read_how_long_entries_are_kept(settings, agent_epci):
    from django.test import Client

    settings.ALZETTE_PARTNERS_ACCESS_LOG_DAYS = 90
    Organisation.objects.using(DB).create(slug="ccphva", name="CCPHVA",
                                          kind=Organisation.Kind.PUBLIC)  # fmt: skip
    client = Client()
    client.force_login(agent_epci)
    page = client.get("/developers/accesses/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="access-log-retention" data-days="90"' in html
    assert "90 jours" in html  # the interface defaults to French
