"""A network outage silences thousands of devices at once: the "no data" check fires
(and later closes) their alerts by batches, each one insert, one ledger append and one
signal, with every alert still recorded and mailed once per rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from alzette.ledger import services as ledger
from alzette.ledger.entries import opens
from alzette.personal.accounts.models import AlertMailWindow
from alzette.territory.supervision import alerts, services
from alzette.territory.supervision.models import Alert, LedgerRecord
from tests.conftest import ALL_DATABASES
from tests.ngsild_helpers import NgsiLd

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)
DB = "territory"
LOCATION = {"type": "Point", "coordinates": [5.98, 49.47]}
SILENT = 7


def _bin(number: int) -> str:
    return f"urn:ngsi-ld:WasteContainer:bin-57038-{number:03d}"


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.ALZETTE_NGSILD_DELIVERY = "worker"
    settings.ALZETTE_ONEM2M_DELIVERY = "worker"
    settings.ALZETTE_ALERT_MAIL_WINDOW_MINUTES = 15
    alerts.forget_rules()


@pytest.fixture
def fleet(agent_audun):
    """Seven bins last heard from three hours ago, and a "no data" rule (60 min)."""
    ld = NgsiLd()
    heard = (datetime.now(UTC) - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for number in range(1, SILENT + 1):
        ld.create({"id": _bin(number), "type": "WasteContainer", "location": LOCATION,
                   "fillingLevel": {"type": "Property", "value": 0.3,
                                    "observedAt": heard}})  # fmt: skip
    data = {"name": "Capteur muet", "entity_type": "WasteContainer",
            "attribute": "fillingLevel", "kind": "nodata", "minutes": 60}  # fmt: skip
    rule = services.save_rule(services.actor_of(agent_audun), data)
    mail.outbox.clear()
    return ld, rule


@pytest.fixture
def burst(monkeypatch):
    monkeypatch.setattr(alerts, "BURST", 3)  # seven bins: batches of 3, 3 and 1


@pytest.fixture
def signals():
    """What the engine announced: ("one", entity) or ("burst", [entities])."""
    heard: list = []

    def one(sender, alert, **kwargs):
        heard.append(("one", alert.entity_id))

    def many(sender, alerts, **kwargs):
        heard.append(("burst", [a.entity_id for a in alerts]))

    alerts.alert_fired.connect(one, dispatch_uid="test-one")
    alerts.alerts_fired.connect(many, dispatch_uid="test-many")
    yield heard
    alerts.alert_fired.disconnect(dispatch_uid="test-one")
    alerts.alerts_fired.disconnect(dispatch_uid="test-many")


def test_a_silent_fleet_fires_by_batches_each_alert_recorded(
    fleet, burst, signals, django_capture_on_commit_callbacks
):
    _, rule = fleet
    with django_capture_on_commit_callbacks(using=DB, execute=True):
        fired = alerts.check_no_data()
    assert sorted(a.entity_id for a in fired) == [_bin(n) for n in range(1, SILENT + 1)]
    assert all(a.pk for a in fired)  # the batch insert gave each row its key
    assert [kind for kind, _ in signals] == ["burst", "burst", "one"]
    assert sum(len(ids) if kind == "burst" else 1 for kind, ids in signals) == SILENT
    records = LedgerRecord.objects.filter(kind="alert.fired")
    assert records.count() == SILENT
    for alert in fired:
        record = records.get(object_ref=f"alert:{alert.pk}")
        assert record.payload["entity"] == alert.entity_id and record.payload["rule"] == rule.pk
        entry, _ = ledger.get_entry(record.leaf_index)
        assert entry["object"] == f"alert:{alert.pk}" and entry["kind"] == "alert.fired"
        assert opens(entry["commitment"], record.payload, record.salt)
    assert len({r.leaf_index for r in records}) == SILENT
    assert alerts.check_no_data() == []  # all open: nothing fired twice
    assert Alert.objects.count() == SILENT


def test_a_burst_mails_the_first_alert_and_counts_the_others_for_the_digest(
    fleet, burst, agent_epci, django_capture_on_commit_callbacks
):
    _, rule = fleet
    with django_capture_on_commit_callbacks(using=DB, execute=True):
        alerts.check_no_data()
    assert len(mail.outbox) == 1  # one message (to the unit and the EPCI), not seven
    window = AlertMailWindow.objects.get(rule_id=rule.pk)
    assert window.pending_count == SILENT - 1
    assert len(window.pending_sample) == SILENT - 1 and _bin(1) not in window.pending_sample


def test_devices_heard_again_close_their_alerts_by_batches(fleet, burst):
    ld, _ = fleet
    alerts.check_no_data()
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for number in range(1, 6):
        level = {"type": "Property", "value": 0.4, "observedAt": now}
        ld.post(f"/entities/{_bin(number)}/attrs", {"fillingLevel": level})
    assert alerts.check_no_data() == []
    closed = Alert.objects.filter(state="closed").order_by("entity_id")
    assert [a.entity_id for a in closed] == [_bin(n) for n in range(1, 6)]
    assert {a.closed_by for a in closed} == {"system"}
    assert all("observed again" in a.comment or "observé" in a.comment for a in closed)
    assert Alert.objects.filter(state="firing").count() == 2
    records = LedgerRecord.objects.filter(kind="alert.closed")
    assert sorted(r.object_ref for r in records) == sorted(f"alert:{a.pk}" for a in closed)
    assert {r.payload["by"] for r in records} == {"rule"}


def test_a_batch_meeting_an_alert_fired_meanwhile_falls_back_to_one_by_one(fleet):
    _, rule = fleet
    now = datetime.now(UTC)
    quicker = Alert.objects.using(DB).create(
        rule=rule, entity_id=_bin(2), message="another process", fired_at=now
    )
    due = [(_bin(n), None, "silent") for n in (1, 2, 3)]
    fired = alerts._fire_many(rule, due, now)
    assert sorted(a.entity_id for a in fired) == [_bin(1), _bin(3)]
    assert Alert.objects.filter(entity_id=_bin(2)).get() == quicker
    assert LedgerRecord.objects.filter(kind="alert.fired").count() == 2


def test_record_openings_appends_consecutive_entries_under_one_tree_head(fleet):
    before = ledger.current_size()
    heads = ledger.latest_tree_head()
    entries = [("alert:1", {"n": 1}), ("alert:2", {"n": 2}), ("x y", {"n": 3})]
    services.record_many("alert.closed", "system:test", entries)
    rows = list(LedgerRecord.objects.filter(actor="system:test").order_by("leaf_index"))
    assert [r.leaf_index for r in rows] == [before, before + 1, before + 2]
    assert rows[2].object_ref.startswith("object:")  # a name the ledger cannot spell
    assert ledger.current_size() == before + 3
    assert ledger.latest_tree_head().tree_size == before + 3 != heads.tree_size
    assert services.record_many("alert.closed", "system:test", []) is None
    assert ledger.current_size() == before + 3
