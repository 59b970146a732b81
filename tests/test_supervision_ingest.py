"""The shared device-message rules (supervision.ingest): routing, time, numbers, and one
quarantine entry per message however many contexts refuse it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from alzette.territory.supervision import ingest
from alzette.territory.supervision.ingest import Refused
from alzette.territory.supervision.models import LedgerRecord, QuarantinedMessage
from alzette.territory.supervision.quarantine import quarantine
from tests.conftest import ALL_DATABASES

ARRIVED = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)


def _instance(content, ri: str = "cin1") -> SimpleNamespace:
    return SimpleNamespace(ri=ri, ct=ARRIVED, attrs={"con": content})


# --- Time -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ARRIVED),
        ("", ARRIVED),
        ("2026-12-04T17:30:00Z", datetime(2026, 12, 4, 17, 30, tzinfo=UTC)),
        ("2026-12-04T18:30:00+01:00", datetime(2026, 12, 4, 17, 30, tzinfo=UTC)),
        ("2026-12-04T18:00:59Z", datetime(2026, 12, 4, 18, 0, 59, tzinfo=UTC)),  # clock drift
    ],
)
def test_the_observation_time_is_t_or_the_arrival(raw, expected):
    moment = ingest.observation_time(raw, ARRIVED)
    assert moment == expected and moment.tzinfo == UTC


@pytest.mark.parametrize(
    ("raw", "kind", "words"),
    [
        ("yesterday", "invalid_time", "unreadable observation time"),
        ("2026-12-04T17:30:00", "invalid_time", "has no time zone"),
        ("2026-12-04T18:02:00Z", "future_time", "120 s after the message arrived"),
        (12345, "invalid_time", "unreadable"),
    ],
)
def test_impossible_times_are_refused(raw, kind, words):
    with pytest.raises(Refused) as caught:
        ingest.observation_time(raw, ARRIVED)
    assert caught.value.kind == kind and words in caught.value.reason


def test_a_message_reads_its_own_t():
    found = ingest.message(_instance(json.dumps({"t": "2026-12-04T17:00:00Z"})),
                           "alzette/streetlight-57038-001/state")  # fmt: skip
    assert found.kind == "streetlight" and found.container == "state"
    assert ingest.observed_time(found) == datetime(2026, 12, 4, 17, tzinfo=UTC)


# --- Numbers --------------------------------------------------------------------------------


def test_numbers_within_bounds():
    content = {"level": 0.5, "power": 3, "none": None}
    assert ingest.number(content, "level", low=0, high=1) == 0.5
    assert ingest.number(content, "power", low=0) == 3.0
    assert ingest.number(content, "none") is None and ingest.number(content, "absent") is None


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (True, "unreadable"),
        ("3", "unreadable"),
        (float("nan"), "unreadable"),
        (-1, "out_of_range"),
        (2, "out_of_range"),
    ],
)
def test_bad_numbers_are_refused(value, kind):
    with pytest.raises(Refused) as caught:
        ingest.number({"level": value}, "level", low=0, high=1, unit="%")
    assert caught.value.kind == kind and "level" in caught.value.reason


# --- Routing --------------------------------------------------------------------------------


def test_dispatch_routes_by_device_kind_and_container():
    seen = []
    handlers = {("lamp", "state"): lambda m: seen.append(m) or "applied"}
    assert ingest.dispatch(_instance("{}"), "alzette/lamp-1/state", handlers) == "applied"
    assert ingest.dispatch(_instance("{}"), "alzette/lamp-1/other", handlers) is None
    assert ingest.dispatch(_instance("{}"), "alzette/bin-1/state", handlers) is None
    assert ingest.dispatch(_instance("{}"), "alzette/lamp-1/state/extra", handlers) is None
    assert [m.device for m in seen] == ["lamp-1"] and seen[0].content == {}


def test_content_is_parsed_when_it_is_json_and_kept_otherwise():
    assert ingest.parse('{"a": 1}') == {"a": 1}
    assert ingest.parse(b'{"a": 1}') == {"a": 1}
    assert ingest.parse("not json") == "not json"
    assert ingest.parse({"a": 1}) == {"a": 1}


# --- One entry per message ------------------------------------------------------------------


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_a_refused_message_is_quarantined_with_its_source():
    def refuse(found):
        raise Refused("power is negative", "out_of_range")

    ingest.dispatch(_instance('{"p": -1}', ri="cinA"), "alzette/lamp-1/state",
                    {("lamp", "state"): refuse})  # fmt: skip
    (kept,) = QuarantinedMessage.objects.all()
    assert (kept.source, kept.device, kept.kind) == ("cinA", "lamp-1", "out_of_range")
    assert kept.content == {"p": -1} and kept.received_at == ARRIVED


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_several_contexts_refusing_one_message_make_one_entry_with_every_reason():
    common = {"device": "lamp-1", "path": "alzette/lamp-1/state", "content": {"p": -1},
              "received_at": ARRIVED, "source": "cinA"}  # fmt: skip
    quarantine(reason="power is negative", kind="out_of_range", **common)
    quarantine(reason="no Streetlight entity", kind="unknown_device", **common)
    quarantine(reason="power is negative", kind="out_of_range", **common)  # said twice
    (kept,) = QuarantinedMessage.objects.all()
    # The most fundamental kind wins: an unknown device explains the rest.
    assert kept.kind == "unknown_device"
    assert kept.reason == "power is negative · no Streetlight entity"
    assert LedgerRecord.objects.filter(kind="device.quarantined").count() == 1


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_other_messages_and_messages_without_source_stay_apart():
    common = {"device": "lamp-1", "path": "alzette/lamp-1/state", "content": {},
              "received_at": ARRIVED, "reason": "bad", "kind": "model"}  # fmt: skip
    quarantine(source="cinA", **common)
    quarantine(source="cinB", **common)
    quarantine(**common)
    quarantine(**common)
    assert QuarantinedMessage.objects.count() == 4


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_a_signal_receiver_failing_is_logged_and_does_not_raise(caplog):
    from django.dispatch import Signal

    signal = Signal()

    def broken(**kwargs):
        raise RuntimeError("personal side down")

    signal.connect(broken, weak=False)
    ingest.announce(signal, QuarantinedMessage, "cinA", at=ARRIVED - timedelta(hours=1))
    assert any("personal side down" in r.getMessage() for r in caplog.records)
