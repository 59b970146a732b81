"""Device health from the oneM2M tree, and the supervision pages for agents only."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client, RequestFactory

from alzette.territory.ngsild import mapping
from alzette.territory.onem2m.models import Resource
from alzette.territory.supervision import health, services, views
from alzette.territory.supervision.models import Alert, AlertRule, QuarantinedMessage
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)
DB = "territory"
LOCATION = {"type": "Point", "coordinates": [5.98, 49.47]}


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.ALZETTE_NGSILD_DELIVERY = "worker"
    settings.ALZETTE_ONEM2M_DELIVERY = "worker"


def _device(m2m, name: str, *, fill=(), battery=None, **attrs) -> str:
    ae = m2m.register(name, **attrs)
    m2m.container(f"alzette/{name}", "fill", ae["aei"])
    for content in fill:
        assert m2m.instance(f"alzette/{name}/fill", content, ae["aei"]).status_code == 201
    if battery is not None:
        m2m.container(f"alzette/{name}", "battery", ae["aei"])
        m2m.instance(f"alzette/{name}/battery", {"level": battery}, ae["aei"])
    return ae["aei"]


def _age(name: str, hours: float) -> None:
    """Pretend the device was last heard of ``hours`` ago."""
    old = datetime.now(UTC) - timedelta(hours=hours)
    ae = Resource.objects.using(DB).get(ty=2, rn=name)
    Resource.objects.using(DB).filter(ri=ae.ri).update(ct=old, lt=old)
    Resource.objects.using(DB).filter(ty=3, pi=ae.ri).update(ct=old, lt=old)


@pytest.fixture
def fleet(m2m):
    mapping.define(name="bins", container="alzette/bin-*/fill", entity_type="WasteContainer",
                   entity_id="urn:ngsi-ld:WasteContainer:{ae}", attribute="fillingLevel",
                   value_path="level", unit_code="P1")  # fmt: skip
    from alzette.territory.ngsild import entities, jsonld, ldcontexts

    op = entities.Op(tenant="", ctx=jsonld.resolve(None, ldcontexts.lookup))
    for name in ("bin-57038-001", "bin-54580-001", "bin-54580-002"):
        entities.create(op, {"id": f"urn:ngsi-ld:WasteContainer:{name}", "type": "WasteContainer",
                             "location": {"type": "GeoProperty", "value": LOCATION}})  # fmt: skip
    _device(m2m, "bin-57038-001", fill=[{"level": 0.2}, {"level": 0.3}, {"level": -1}],
            battery=0.9)  # fmt: skip
    _device(m2m, "bin-54580-001", fill=[{"level": 0.5}], battery=0.05)
    _device(m2m, "bin-54580-002", fill=[{"level": 0.5}], lbl=["period:600"])
    _age("bin-54580-002", 0.5)  # 30 min: more than twice its 10-minute period
    _device(m2m, "truck-1")
    _age("truck-1", 3)


def test_device_health_from_aggregates(fleet):
    found = {d.device: d for d in health.devices()}
    assert set(found) == {"bin-57038-001", "bin-54580-001", "bin-54580-002", "truck-1"}
    first = found["bin-57038-001"]
    assert (first.status, first.commune, first.battery) == ("ok", "57038", 0.9)
    assert (first.messages, first.quarantined) == (4, 1)  # three fills and a battery reading
    assert first.error_rate == pytest.approx(0.25)
    assert first.last_seen > datetime.now(UTC) - timedelta(minutes=1)
    assert found["bin-54580-001"].status == "low_battery"
    assert (found["bin-54580-002"].status, found["bin-54580-002"].period) == ("offline", 600)
    assert (found["truck-1"].status, found["truck-1"].commune) == ("offline", "")
    assert health.summary(list(found.values())) == {
        "total": 4,
        "ok": 1,
        "low_battery": 1,
        "offline": 2,
    }
    platform = health.platform()
    assert platform.messages_hour >= 5 and platform.quarantined_day == 1
    assert set(platform.http_process) == {"2xx", "3xx", "4xx", "5xx"}


def test_the_offline_delay_is_a_setting(fleet, settings):
    settings.ALZETTE_SUPERVISION_OFFLINE_MINUTES = 500
    assert health.device("truck-1").status == "ok"
    assert health.device("nothing") is None


def test_battery_levels_are_read_whatever_their_form():
    assert health.battery_level({"con": '{"level": 0.4}'}) == 0.4
    assert health.battery_level('{"con": {"level": 1}}') == 1.0
    assert health.battery_level({"con": "flat"}) is None
    assert health.battery_level({"con": {"level": True}}) is None


# --- pages -------------------------------------------------------------------------------


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


PAGES = ["/hypervision/supervision/", "/hypervision/supervision/devices/",
         "/hypervision/supervision/quarantine/", "/hypervision/supervision/alerts/",
         "/hypervision/supervision/rules/", "/hypervision/supervision/rules/new/"]  # fmt: skip


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_for_agents_only(path, agent_audun, citizen, partner):
    assert _client(agent_audun).get(path).status_code == 200
    assert _client(citizen).get(path).status_code == 403
    assert _client(partner).get(path).status_code == 403
    anonymous = _client().get(path)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_the_devices_page_filters_by_commune_and_status(fleet, agent_audun):
    client = _client(agent_audun)

    def listed(query: str) -> list[str]:
        page = client.get(f"/hypervision/supervision/devices/?{query}")
        assert page.status_code == 200
        return re.findall(r'<tr data-device="([^"]+)"', page.content.decode())

    assert len(listed("")) == 4
    assert listed("commune=54580") == ["bin-54580-001", "bin-54580-002"]
    assert listed("status=offline") == ["bin-54580-002", "truck-1"]
    assert listed("status=low_battery&commune=54580") == ["bin-54580-001"]
    assert listed("status=broken") == listed("")  # an invalid filter filters nothing


def test_a_device_page_shows_its_quarantined_messages(fleet, agent_audun):
    page = _client(agent_audun).get("/hypervision/supervision/devices/bin-57038-001/")
    html = page.content.decode()
    assert 'id="device-health" data-status="ok"' in html
    assert re.findall(r'<tr data-kind="([^"]+)"', html) == ["out_of_range"]
    assert "fillingLevel" in re.search(r'<td class="reason">([^<]*)</td>', html).group(1)
    assert len(page.context["recent"]) == 4
    assert _client(agent_audun).get("/hypervision/supervision/devices/nope/").status_code == 404
    listing = _client(agent_audun).get("/hypervision/supervision/quarantine/?kind=out_of_range")
    assert b"bin-57038-001" in listing.content
    none = _client(agent_audun).get("/hypervision/supervision/quarantine/?kind=future_time")
    assert b"bin-57038-001" not in none.content


def _alert(agent) -> Alert:
    rule = services.save_rule(services.actor_of(agent), {
        "name": "Bac plein", "entity_type": "WasteContainer", "attribute": "fillingLevel",
        "kind": "threshold", "operator": "gt", "value": 0.9})  # fmt: skip
    return Alert.objects.using(DB).create(
        rule=rule,
        entity_id="urn:ngsi-ld:WasteContainer:b1",
        value=0.95,
        message="full",
        fired_at=datetime.now(UTC),
    )


def test_the_alerts_page_shows_one_rule_s_alerts(agent_audun):
    alert = _alert(agent_audun)
    other_rule = services.save_rule(services.actor_of(agent_audun), {
        "name": "Autre", "entity_type": "WasteContainer", "attribute": "fillingLevel",
        "kind": "threshold", "operator": "lt", "value": 0.1})  # fmt: skip
    other = Alert.objects.using(DB).create(rule=other_rule, entity_id="urn:x:b2", value=0.0,
                                           message="empty", fired_at=datetime.now(UTC))  # fmt: skip
    client = _client(agent_audun)
    page = client.get("/hypervision/supervision/alerts/", {"rule": alert.rule_id}).content
    assert f'id="alert-{alert.pk}"'.encode() in page
    assert f'id="alert-{other.pk}"'.encode() not in page
    assert f'data-rule="{alert.rule_id}"'.encode() in page
    # An unknown or malformed rule shows every open alert, never an error.
    for rule in ("999999", "x"):
        page = client.get("/hypervision/supervision/alerts/", {"rule": rule})
        assert page.status_code == 200 and f'id="alert-{other.pk}"'.encode() in page.content


def test_agents_acknowledge_and_close_alerts_from_the_page(agent_audun, agent_villerupt):
    alert = _alert(agent_audun)
    client = _client(agent_audun)
    page = client.get("/hypervision/supervision/alerts/")
    assert b'data-count="1"' in page.content and f'id="alert-{alert.pk}"'.encode() in page.content
    request = RequestFactory().get("/")
    request.user = agent_audun
    assert views.unacknowledged_alerts(request) == 1
    outsider = _client(agent_villerupt).post(
        f"/hypervision/supervision/alerts/{alert.pk}/acknowledge/", {"comment": "x"}
    )
    assert outsider.status_code == 403
    done = client.post(f"/hypervision/supervision/alerts/{alert.pk}/acknowledge/",
                       {"comment": "en route"})  # fmt: skip
    assert done.status_code == 302
    alert.refresh_from_db()
    assert (alert.state, alert.comment) == ("acknowledged", "en route")
    assert views.unacknowledged_alerts(request) == 0
    assert client.post(f"/hypervision/supervision/alerts/{alert.pk}/explode/").status_code == 404
    assert client.get(f"/hypervision/supervision/alerts/{alert.pk}/close/").status_code == 405
    client.post(f"/hypervision/supervision/alerts/{alert.pk}/close/")
    alert.refresh_from_db()
    assert alert.state == "closed"
    assert (
        f'id="alert-{alert.pk}"'.encode()
        not in client.get("/hypervision/supervision/alerts/").content
    )
    assert (
        f'id="alert-{alert.pk}"'.encode()
        in client.get("/hypervision/supervision/alerts/?state=closed").content
    )


def test_the_csrf_token_is_required(agent_audun):
    alert = _alert(agent_audun)
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent_audun)
    refused = client.post(f"/hypervision/supervision/alerts/{alert.pk}/acknowledge/")
    assert refused.status_code == 403
    alert.refresh_from_db()
    assert alert.state == "firing"


RULE = {"name": "Bac plein", "entity_type": "WasteContainer", "attribute": "fillingLevel",
        "kind": "threshold", "operator": "gt", "value": "0.9", "severity": "warning",
        "enabled": "on"}  # fmt: skip


def test_the_rule_form_saves_good_rules_and_explains_bad_ones(agent_audun, agent_villerupt):
    client = _client(agent_audun)
    bad = client.post("/hypervision/supervision/rules/new/", {**RULE, "kind": "nodata",
                                                              "minutes": ""})  # fmt: skip
    assert bad.status_code == 400
    assert "minutes" in bad.context["form"].errors
    polygon = client.post(
        "/hypervision/supervision/rules/new/",
        {**RULE, "kind": "geofence", "area": "{not json", "direction": "leaves"},
    )
    assert "area" in polygon.context["form"].errors
    assert not AlertRule.objects.exists()
    good = client.post("/hypervision/supervision/rules/new/", RULE)
    assert good.status_code == 302
    rule = AlertRule.objects.get()
    assert (rule.value, rule.unit, rule.enabled) == (0.9, "57038", True)
    edit = client.get(f"/hypervision/supervision/rules/{rule.pk}/")
    assert edit.status_code == 200 and edit.context["form"].initial["value"] == 0.9
    client.post(f"/hypervision/supervision/rules/{rule.pk}/", {**RULE, "value": "0.8"})
    client.post(f"/hypervision/supervision/rules/{rule.pk}/toggle/")
    rule.refresh_from_db()
    assert (rule.value, rule.enabled) == (0.8, False)
    assert len(services.history(f"alert_rule:{rule.pk}")) == 3
    other = _client(agent_villerupt)
    assert other.get(f"/hypervision/supervision/rules/{rule.pk}/").status_code == 403
    assert other.post(f"/hypervision/supervision/rules/{rule.pk}/toggle/").status_code == 403
    assert client.get("/hypervision/supervision/rules/999999/").status_code == 404


def test_the_command_checks_no_data_and_lists_devices(fleet, agent_audun):
    services.save_rule(services.actor_of(agent_audun), {
        "name": "Muet", "entity_type": "WasteContainer", "attribute": "fillingLevel",
        "kind": "nodata", "minutes": 1})  # fmt: skip
    out = StringIO()
    call_command("supervision", "check", stdout=out)
    assert out.getvalue().startswith("0 no-data alerts fired")  # every bin spoke just now
    out = StringIO()
    call_command("supervision", "devices", "--status", "offline", stdout=out)
    assert [line.split("\t")[0] for line in out.getvalue().splitlines()] == [
        "bin-54580-002",
        "truck-1",
    ]
    QuarantinedMessage.objects.using(DB).update(received_at=datetime.now(UTC) - timedelta(days=100))
    out = StringIO()
    call_command("supervision", "purge", stdout=out)
    assert out.getvalue().startswith("1 quarantined")
