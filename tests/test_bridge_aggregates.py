"""The bridge's aggregate releases: k-anonymity, complementary suppression,
differential privacy, the release log, atomicity, and nothing personal crossing."""

from __future__ import annotations

import io
import json

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from alzette.bridge import aggregates, privacy
from alzette.bridge import procedures as bridge_procedures
from alzette.bridge.aggregates import (
    AggregateError,
    AggregateSpec,
    Measure,
    Row,
    build_cells,
    complementary_suppression,
    primary_suppression,
    release,
)
from alzette.bridge.pseudonyms import pseudonym
from alzette.ledger import entries
from alzette.ledger.models import LedgerEntry
from alzette.territory.events.models import (
    Aggregate,
    AggregateRelease,
    ProcedureStatistic,
    TerritoryEvent,
)
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


@pytest.fixture(autouse=True)
def _english():
    # The messages are asserted in the source language; the interface defaults to French.
    from django.utils import translation

    with translation.override("en"):
        yield


K = 10


def households(commune: str, count: int, period: str = "2026-03", lifts: int = 2, **kw) -> list:
    """``count`` households of a commune, two rows each (a household counts once)."""
    prefix = kw.get("prefix", commune)
    return [
        Row(
            commune,
            period,
            f"{prefix}-{n}",
            {"lifts": lifts / 2, "weight": 10.0},
            kw.get("cat", ""),
        )
        for n in range(count)
        for _ in range(2)
    ]


class Lifts(AggregateSpec):
    """A spec like #9's: bin lifts per household, commune and month."""

    name = "test-lifts"
    measures = (Measure("lifts", "sum", bound=4), Measure("weight", "mean"))

    def __init__(self, rows: list[Row] | None = None) -> None:
        self._rows = households("57038", K) + households("57041", K - 1) if rows is None else rows

    def rows(self) -> list[Row]:
        return list(self._rows)


class Categorised(Lifts):
    name = "test-streams"
    categorised = True


def released() -> dict[tuple[str, str, str], Aggregate]:
    return {(a.commune_code, a.period, a.category): a for a in Aggregate.objects.all()}


# --- k-anonymity ---------------------------------------------------------------------------


def test_a_cell_of_k_minus_one_households_is_never_released():
    outcome = release(Lifts())
    cells = released()
    assert list(cells) == [("57038", "2026-03", "")]  # 57041 has k - 1 households
    assert (outcome.released, outcome.suppressed, outcome.k) == (1, 1, K)
    assert cells["57038", "2026-03", ""].subjects == K


def test_exactly_k_households_are_released_with_exact_figures():
    release(Lifts())
    cell = released()["57038", "2026-03", ""]
    assert cell.subjects == K  # ten households, twenty rows
    assert cell.measures == {"lifts": 2 * K, "weight": 10.0}
    assert cell.fingerprints == {}  # no noise, nothing to keep


def test_an_empty_release_is_logged_and_empties_the_previous_one():
    release(Lifts())
    assert release(Lifts([])).released == 0
    assert not Aggregate.objects.exists() and AggregateRelease.objects.count() == 2


def test_k_is_configurable(settings):
    settings.ALZETTE_BRIDGE_K = 9
    release(Lifts())
    assert len(released()) == 2


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["57038", "57041"]),
            st.sampled_from(["a", "b", "c", "d"]),
            st.integers(0, 40),
        ),
        max_size=150,
    ),
    st.integers(2, 8),
)
@hypothesis_settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_no_released_cell_describes_fewer_than_k_subjects(facts, k):
    """For any population, a released cell has k subjects or more, and what a released
    total minus its released categories reveals describes k subjects or more."""
    rows = [Row(commune, "2026-03", subject, {"lifts": 1}, cat) for commune, cat, subject in facts]
    cells = build_cells(rows, categorised=True)
    hidden = primary_suppression(cells, k)
    hidden |= complementary_suppression(cells, hidden, k)
    for key, cell in cells.items():
        if key not in hidden:
            assert len(cell.subjects) >= k
    for commune in ("57038", "57041"):
        total = (commune, "2026-03", "")
        if total in cells and total not in hidden:
            residue = set()
            for key, cell in cells.items():
                if key[0] == commune and key[2] and key in hidden:
                    residue |= set(cell.subjects)
            assert not residue or len(residue) >= k


def test_complementary_suppression_protects_a_cell_hidden_under_a_total():
    rows = [
        *households("57038", 12, cat="glass", prefix="g"),
        *households("57038", 11, cat="paper", prefix="p"),
        *households("57038", 3, cat="metal", prefix="m"),
    ]
    outcome = release(Categorised(rows))
    cells = released()
    # metal (3) is below k; the total minus glass and paper would give it, so paper (the
    # smallest released category) goes too: the total minus glass describes 14 households.
    assert set(cells) == {("57038", "2026-03", ""), ("57038", "2026-03", "glass")}
    assert outcome.suppressed == 2
    total, glass = cells["57038", "2026-03", ""], cells["57038", "2026-03", "glass"]
    assert (total.subjects, total.measures["lifts"] - glass.measures["lifts"]) == (26, 28)


def test_a_total_whose_categories_all_pass_needs_no_more_suppression():
    rows = households("57038", 10, cat="glass", prefix="g") + households(
        "57038", 10, cat="paper", prefix="p"
    )
    assert release(Categorised(rows)).suppressed == 0
    assert len(released()) == 3


def test_a_household_in_two_categories_counts_once_in_the_total():
    rows = households("57038", 6, cat="glass") + households("57038", 6, cat="paper")
    release(Categorised(rows))
    assert released() == {}  # six households, whatever the number of rows


# --- Differential privacy ------------------------------------------------------------------


def test_noise_is_added_after_suppression_on_true_counts(settings, monkeypatch):
    settings.ALZETTE_BRIDGE_EPSILON = "1.0"
    monkeypatch.setattr(privacy, "noisy", lambda value, scale: value + 100)
    release(Lifts())
    cells = released()
    assert list(cells) == [("57038", "2026-03", "")]  # 9 + 100 would pass: still hidden
    cell = cells["57038", "2026-03", ""]
    assert cell.subjects == K + 100
    # The sum is noised within its bound (2 lifts per household <= 4); means are withheld.
    assert cell.measures == {"lifts": 2 * K + 100, "weight": None}


def test_noise_changes_counts_with_opendp(settings):
    settings.ALZETTE_BRIDGE_EPSILON = "0.1"
    rows = [row for n in range(20) for row in households(f"57{n:03d}", 12)]
    release(Lifts(rows))
    counts = [cell.subjects for cell in Aggregate.objects.all()]
    assert len(counts) == 20 and all(count >= 0 for count in counts)
    assert counts != [12] * 20  # each is unchanged with probability about 2.5%


def test_noise_is_kept_while_the_true_count_is_unchanged(settings, monkeypatch):
    settings.ALZETTE_BRIDGE_EPSILON = "1.0"
    draws = iter(range(1, 100))
    monkeypatch.setattr(privacy, "noisy", lambda value, scale: value + next(draws))
    rows = households("57038", 10) + households("57041", 10)
    release(Lifts(rows))
    first = {key: cell.subjects for key, cell in released().items()}
    release(Lifts(rows))  # same data: repeated releases cannot be averaged
    assert {key: cell.subjects for key, cell in released().items()} == first
    release(Lifts(households("57038", 10) + households("57041", 11)))
    again = {key: cell.subjects for key, cell in released().items()}
    assert again["57038", "2026-03", ""] == first["57038", "2026-03", ""]
    assert again["57041", "2026-03", ""] != first["57041", "2026-03", ""]  # fresh noise


def test_the_noise_scale_follows_opendp_privacy_map():
    assert privacy.noise_scale(1, 0.5) == 2.0
    assert privacy.noise_scale(4, 0.5) == 8.0


# --- Release log, ledger, atomicity --------------------------------------------------------


def test_every_release_is_logged_and_in_the_ledger(settings):
    settings.ALZETTE_BRIDGE_EPSILON = "0.5"
    release(Lifts(households("57038", 10, "2026-02") + households("57038", 10, "2026-04")))
    log = AggregateRelease.objects.get()
    assert (log.spec, log.period_from, log.period_to, log.k, log.epsilon) == (
        "test-lifts", "2026-02", "2026-04", K, 0.5,
    )  # fmt: skip
    assert (log.cells_released, log.cells_suppressed) == (2, 0)
    assert log.measures == [
        {"name": "lifts", "type": "integer"},
        {"name": "weight", "type": "number"},
    ]
    entry = LedgerEntry.objects.using("ledger").get(index=log.ledger_index)
    assert (entry.kind, entry.actor, entry.object) == (
        "bridge.released", "system:bridge", f"aggregate-release:{log.pk}",
    )  # fmt: skip
    assert entries.opens(entry.commitment, log.payload, log.ledger_salt)
    assert log.payload["cells_sha256"] == log.digest and log.payload["epsilon"] == 0.5


def test_a_failed_release_leaves_the_previous_one_intact(monkeypatch):
    release(Lifts())
    before = [(a.commune_code, a.subjects, a.release_id) for a in Aggregate.objects.all()]

    def fail(*args, **kwargs):
        raise RuntimeError("ledger down")

    from alzette.ledger import services as ledger

    monkeypatch.setattr(ledger, "record", fail)
    with pytest.raises(RuntimeError):
        release(Lifts(households("57038", 20) + households("57041", 20)))
    assert [(a.commune_code, a.subjects, a.release_id) for a in Aggregate.objects.all()] == before
    assert AggregateRelease.objects.count() == 1


def test_a_failure_after_the_cells_are_written_rolls_them_back(monkeypatch):
    release(Lifts())

    class Broken(Lifts):
        def released(self, cells):
            raise RuntimeError("midway")

    with pytest.raises(RuntimeError):
        release(Broken(households("57038", 20) + households("57041", 20)))
    assert list(released()) == [("57038", "2026-03", "")]
    assert released()["57038", "2026-03", ""].subjects == K


# --- Bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 0, -3, True, "10", 2.5])
def test_a_k_below_two_or_not_an_integer_is_refused(settings, k):
    settings.ALZETTE_BRIDGE_K = k
    with pytest.raises(AggregateError, match="ALZETTE_BRIDGE_K"):
        release(Lifts())
    assert not AggregateRelease.objects.exists()


@pytest.mark.parametrize("epsilon", ["-1", "zero", "inf", "nan"])
def test_a_bad_epsilon_is_refused(settings, epsilon):
    settings.ALZETTE_BRIDGE_EPSILON = epsilon
    with pytest.raises(AggregateError, match="ALZETTE_BRIDGE_EPSILON"):
        release(Lifts())


def test_noise_without_opendp_is_refused(settings, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "opendp" else real(name, *a)
    )
    settings.ALZETTE_BRIDGE_EPSILON = "1"
    with pytest.raises(AggregateError, match="alzette\\[dp\\]"):
        release(Lifts())


def test_an_unknown_spec_is_refused():
    with pytest.raises(AggregateError, match="Unknown aggregate"):
        aggregates.get("nope")


def test_a_categorised_spec_needs_categories():
    with pytest.raises(AggregateError):
        release(Categorised(households("57038", 10)))


# --- The command and the job ---------------------------------------------------------------


def test_the_release_command(settings):
    settings.ALZETTE_BRIDGE_AGGREGATES = ["tests.test_bridge_aggregates.Lifts"]
    out = io.StringIO()
    call_command("bridge", "release", stdout=out)
    assert out.getvalue().strip() == "test-lifts: 1 cell(s) released, 1 suppressed (k=10, no noise)"
    call_command("bridge", "release", "--spec", "test-lifts", stdout=out)
    assert AggregateRelease.objects.count() == 2
    with pytest.raises(CommandError, match="Unknown aggregate"):
        call_command("bridge", "release", "--spec", "nope")
    settings.ALZETTE_BRIDGE_K = 1
    with pytest.raises(CommandError, match="at least 2"):
        call_command("bridge", "release")


def test_the_worker_releases_daily():
    from alzette.core.jobs import JOBS, problems

    job = next(job for job in JOBS if job.name == "bridge-release")
    assert job.command == ("bridge", "release") and job.schedule.get("hour")
    assert problems((job,)) == []


# --- Procedure files, pseudonyms, nothing personal crossing --------------------------------

REPORT = {"where": {"lat": 49.47, "lon": 5.98}, "commune": "57038", "kind": ["bulky"],
          "details": "Devant chez Mme Martin, 4 rue des Roses"}  # fmt: skip


@pytest.fixture
def filed(procedures, django_capture_on_commit_callbacks):
    """Three citizens each file a report in Audun-le-Tiche; one of them files twice."""
    from alzette.personal.procedures import services
    from tests.factories import UserFactory

    people = [UserFactory() for _ in range(3)]
    dossiers = []
    for person in [*people, people[0]]:
        dossier = services.start(person, procedures["signalement-depot-sauvage"])
        with django_capture_on_commit_callbacks(execute=True):
            dossiers.append(services.submit(person, dossier.pk, REPORT))
    return people, dossiers


def test_procedure_files_cross_only_as_k_anonymous_cells(settings, filed):
    settings.ALZETTE_BRIDGE_K = 3
    call_command("bridge", "release", "--spec", "procedure-files", stdout=io.StringIO())
    cells = released()
    month = filed[1][0].submitted_at.strftime("%Y-%m")
    cell = cells["57038", month, "signalement-depot-sauvage"]
    assert (cell.subjects, cell.measures["filed"], cell.measures["decided"]) == (3, 4, 0)
    statistic = ProcedureStatistic.objects.get()  # the older table follows the release
    assert (statistic.procedure, statistic.commune_code, statistic.filed) == (
        "signalement-depot-sauvage", "57038", 4,
    )  # fmt: skip
    settings.ALZETTE_BRIDGE_K = 4  # three accounts filed: nothing may cross now
    call_command("bridge", "statistics", stdout=io.StringIO())
    assert not Aggregate.objects.exists() and not ProcedureStatistic.objects.exists()


def test_no_personal_field_reaches_the_territory(settings, filed):
    settings.ALZETTE_BRIDGE_K = 2
    settings.ALZETTE_BRIDGE_EPSILON = "1"
    people, dossiers = filed
    call_command("bridge", "release", stdout=io.StringIO())
    stored = [json.dumps(list(model.objects.values()), default=str)
              for model in apps.get_app_config("territory_events").get_models()]  # fmt: skip
    entries = list(LedgerEntry.objects.using("ledger").filter(kind="bridge.released").values())
    assert len(entries) == len(settings.ALZETTE_BRIDGE_AGGREGATES)  # one per spec
    text = " ".join(stored) + json.dumps(entries, default=str)
    secrets = [str(person.pk) for person in people] + [person.email for person in people]
    secrets += [person.pseudonym for person in people] + [d.reference for d in dossiers]
    secrets += [str(d.pk) for d in dossiers] + ["Martin", "Roses", bridge_procedures.NO_ACCOUNT]
    for secret in secrets:
        assert secret not in text, secret


def test_pseudonyms_are_keyed_and_differ_per_purpose(settings):
    first = pseudonym("territory-event.source", "42")
    assert first != pseudonym("bridge.noise", "42") and len(first) == 64
    settings.ALZETTE_BRIDGE_PSEUDONYM_KEY = "another-secret"
    assert pseudonym("territory-event.source", "42") != first
    with pytest.raises(ValueError):
        pseudonym("Not A Label", "42")


def test_events_published_under_the_old_reference_still_close(
    citizen, procedures, agent_audun, django_capture_on_commit_callbacks
):
    from alzette.personal.procedures import services

    dossier = services.start(citizen, procedures["signalement-depot-sauvage"])
    with django_capture_on_commit_callbacks(execute=True):
        services.submit(citizen, dossier.pk, REPORT)
    event = TerritoryEvent.objects.get()
    assert event.source_ref == bridge_procedures.source_ref(dossier)
    event.source_ref = bridge_procedures._legacy_source_ref(dossier)
    event.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.take(agent_audun, dossier.pk)
        services.decide(agent_audun, dossier.pk, "accept", "Enlevé")
    assert TerritoryEvent.objects.get().status == "closed"


# --- Open data -----------------------------------------------------------------------------


def test_released_cells_are_open_data(settings):
    from alzette.territory.catalogue import downloads, services, sources
    from alzette.territory.catalogue.models import Organisation

    release(Lifts())
    org = Organisation.objects.using("territory").create(slug="ccphva", name="CCPHVA")
    dataset = services.publish(
        org, "collectes", title={"fr": "Collectes"}, licence="etalab-2.0", themes=["ENVI"],
        source="bridge-aggregates", source_options={"spec": "test-lifts"}, frequency="DAILY",
        communes=["57038"],
    )  # fmt: skip
    text = b"".join(downloads.stream(dataset, "csv")).decode("utf-8-sig")
    assert text.splitlines() == [
        "commune,period,category,subjects,lifts,weight", "57038,2026-03,,10,20,10.0",
    ]  # fmt: skip
    source = sources.get("bridge-aggregates")
    for bad in ({}, {"spec": 3}, {"spec": "x", "more": 1}, {"spec": "../etc"}):
        with pytest.raises(sources.SourceError):
            source.check(bad)
