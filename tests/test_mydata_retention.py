"""The access log's retention: the setting, the purge, its command and job, the page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from alzette.core import jobs
from alzette.personal.mydata import services
from alzette.personal.mydata.checks import check_access_log_retention
from alzette.personal.mydata.models import AccessorKind, DataAccess
from tests.conftest import ALL_DATABASES
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def _access(user, days_ago: float) -> DataAccess:
    access = services.log_access(user, AccessorKind.SERVICE, "Service de l'eau", "account", "Test")
    access.accessed_at = timezone.now() - timedelta(days=days_ago)
    access.save(update_fields=["accessed_at"])
    return access


def _left() -> set[int]:
    return set(DataAccess.objects.values_list("pk", flat=True))


def test_the_default_keeps_one_year(settings):
    del settings.ALZETTE_MYDATA_ACCESS_LOG_DAYS
    assert services.access_log_days() == services.ACCESS_LOG_DAYS == 365


def test_old_entries_are_purged_and_recent_ones_kept(settings):
    settings.ALZETTE_MYDATA_ACCESS_LOG_DAYS = 365
    one, other = UserFactory(), UserFactory()
    old, older = _access(one, 366), _access(other, 800)
    recent, edge = _access(one, 10), _access(other, 364.9)
    assert services.purge_access_log() == 2
    assert _left() == {recent.pk, edge.pk}
    assert {old.pk, older.pk}.isdisjoint(_left())
    assert services.purge_access_log() == 0  # idempotent


def test_the_setting_is_respected(settings):
    settings.ALZETTE_MYDATA_ACCESS_LOG_DAYS = 30
    user = UserFactory()
    kept, gone = _access(user, 29), _access(user, 31)
    assert services.purge_access_log() == 1
    assert _left() == {kept.pk}
    assert gone.pk not in _left()


def test_purge_measures_from_the_given_instant(settings):
    settings.ALZETTE_MYDATA_ACCESS_LOG_DAYS = 30
    user = UserFactory()
    entry = _access(user, 1)
    assert services.purge_access_log(now=timezone.now() + timedelta(days=28)) == 0
    assert services.purge_access_log(now=timezone.now() + timedelta(days=32)) == 1
    assert entry.pk not in _left()


@pytest.mark.parametrize("value", [0, -5, "30", 30.0, True, None])
def test_a_bad_setting_is_refused_by_the_system_check_and_at_use(settings, value):
    settings.ALZETTE_MYDATA_ACCESS_LOG_DAYS = value
    (error,) = check_access_log_retention()
    assert error.id == "mydata.E001"
    assert "mydata.E001" in {message.id for message in run_checks()}
    with pytest.raises(ImproperlyConfigured):
        services.access_log_days()
    with pytest.raises(ImproperlyConfigured):
        services.purge_access_log()


def test_a_good_setting_passes_the_check(settings):
    settings.ALZETTE_MYDATA_ACCESS_LOG_DAYS = 180
    assert check_access_log_retention() == []


def test_purge_refuses_a_retention_under_a_day():
    with pytest.raises(ValueError, match="at least 1 day"):
        services.purge_access_log(days=0)


def test_the_command_purges_with_the_setting_or_the_given_days(settings, capsys):
    settings.ALZETTE_MYDATA_ACCESS_LOG_DAYS = 100
    user = UserFactory()
    recent, middle, _ = _access(user, 5), _access(user, 50), _access(user, 150)
    call_command("mydata", "purge-access-log")
    assert capsys.readouterr().out.startswith("1 ")
    assert _left() == {recent.pk, middle.pk}
    call_command("mydata", "purge-access-log", "--days", "10")
    assert _left() == {recent.pk}
    with pytest.raises(CommandError):
        call_command("mydata", "purge-access-log", "--days", "0")


def test_the_worker_purges_daily(settings):
    settings.ALZETTE_MYDATA_ACCESS_LOG_DAYS = 365
    (job,) = [job for job in jobs.JOBS if job.name == "mydata-access-log"]
    assert job.command == ("mydata", "purge-access-log")
    assert job.schedule["minute"].isdigit() and job.schedule["hour"].isdigit()  # once a day
    assert jobs.problems((job,)) == []
    gone = _access(UserFactory(), 400)
    assert jobs.run(job).startswith("1 ")
    assert gone.pk not in _left()


def test_the_page_says_how_long_entries_are_kept(settings, citizen):
    settings.ALZETTE_MYDATA_ACCESS_LOG_DAYS = 1000
    client = Client()
    client.force_login(citizen)
    page = client.get("/my-data/")
    assert page.status_code == 200
    assert b'id="access-log-retention" data-days="1000"' in page.content
