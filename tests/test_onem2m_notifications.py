"""Subscriptions and notifications delivered to a real HTTP receiver.

The receiver is a real HTTP server on loopback that answers like a oneM2M AE
(X-M2M-RSC); it can be told to refuse or be stopped, to show that nothing is
lost while the target is unreachable.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from alzette.territory.onem2m import notifications
from alzette.territory.onem2m.models import Notification, Resource
from tests.conftest import ALL_DATABASES
from tests.onem2m_helpers import rsc

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


class Receiver:
    """An AE's HTTP endpoint: records each notification, answers 2000 (or refuses)."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.headers: list[dict] = []
        self.refuse = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                code = 4000 if receiver.refuse else 2000
                if not receiver.refuse:
                    receiver.received.append(body)
                    receiver.headers.append(dict(self.headers))
                self.send_response(400 if receiver.refuse else 200)
                self.send_header("X-M2M-RSC", str(code))
                self.send_header("X-M2M-RI", self.headers.get("X-M2M-RI", ""))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._handler = Handler
        self.server: ThreadingHTTPServer | None = None
        self.port = 0
        self.start()

    def start(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/notify"

    def events(self) -> list[dict]:
        return [r["m2m:sgn"] for r in self.received if "nev" in r.get("m2m:sgn", {})]


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.ALZETTE_ONEM2M_DELIVERY = "sync"
    settings.ALZETTE_ONEM2M_NOTIFY_TIMEOUT = 2


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


def subscribe(m2m, parent, origin, nu, **attrs):
    body = {"m2m:sub": {"rn": attrs.pop("rn", "watch"), "nu": nu, **attrs}}
    return m2m.create(parent, 23, body, origin=origin)


def test_verification_request_then_creation_notifications(m2m, lamp, receiver):
    response = subscribe(m2m, "alzette/lamp/data", lamp, [receiver.url], enc={"net": [3]})
    assert response.status_code == 201, response.json()
    sub = response.json()["m2m:sub"]
    assert receiver.received == [{"m2m:sgn": {"vrq": True, "sur": f"/id-alzette/{sub['ri']}",
                                              "cr": lamp}}]  # fmt: skip
    assert receiver.headers[0]["X-M2M-Origin"] == "/id-alzette"
    m2m.instance("alzette/lamp/data", "21.5", lamp)
    (event,) = receiver.events()
    assert event["nev"]["net"] == 3
    assert event["nev"]["rep"]["m2m:cin"]["con"] == "21.5"
    assert event["sur"] == f"/id-alzette/{sub['ri']}"


def test_refused_verification_creates_nothing(m2m, lamp, receiver):
    receiver.refuse = True
    response = subscribe(m2m, "alzette/lamp/data", lamp, [receiver.url])
    assert rsc(response) == 5204
    assert not Resource.objects.filter(ty=23).exists()
    assert not Notification.objects.exists()


def test_unreachable_target_at_creation(m2m, lamp, receiver):
    receiver.stop()
    assert rsc(subscribe(m2m, "alzette/lamp/data", lamp, [receiver.url])) == 5204
    receiver.start()


def test_no_verification_when_the_subscriber_is_the_target(m2m, lamp):
    response = subscribe(m2m, "alzette/lamp/data", lamp, [lamp])
    assert response.status_code == 201


def test_subscriber_needs_retrieve_rights(m2m, lamp, receiver):
    response = subscribe(m2m, "alzette/lamp/data", "Cstranger", [receiver.url])
    assert rsc(response) in (4101, 4103)
    assert receiver.received == []


@pytest.mark.parametrize(
    "attrs",
    [
        {"nu": []},
        {"nu": ["ftp://example.org/x"]},
        {"enc": {"net": [9]}},
        {"enc": {"foo": 1}},
        {"enc": {"net": [3], "chty": 3}},
        {"enc": {"net": [1], "atr": "lbl"}},
        {"nct": 7},
        {"exc": 0},
        {"bn": {"num": 0}},
        {"bn": {"dur": "soon"}},
        {"pn": 3},
    ],
)
def test_subscription_bad_input(m2m, lamp, receiver, attrs):
    body = {"m2m:sub": {"nu": [receiver.url], **attrs}}
    assert rsc(m2m.create("alzette/lamp/data", 23, body, origin=lamp)) == 4000
    assert not Resource.objects.filter(ty=23).exists()


def test_update_delete_and_child_delete_events(m2m, lamp, receiver):
    subscribe(m2m, "alzette/lamp/data", lamp, [receiver.url], enc={"net": [1, 2, 4]}, nct=2)
    m2m.instance("alzette/lamp/data", "1", lamp)
    m2m.update("alzette/lamp/data", {"m2m:cnt": {"lbl": ["lux"]}}, origin=lamp)
    m2m.delete("alzette/lamp/data/la", origin=lamp)
    m2m.delete("alzette/lamp/data", origin=lamp)
    nets = [e["nev"]["net"] for e in receiver.events()]
    assert nets == [1, 4, 2]
    assert receiver.events()[0]["nev"]["rep"] == {"m2m:cnt": {"lbl": ["lux"]}}


def test_resource_id_content_and_child_type_filter(m2m, lamp, receiver):
    subscribe(m2m, "alzette/lamp", lamp, [receiver.url], enc={"net": [3], "chty": [3]}, nct=3)
    m2m.container("alzette/lamp", "other", lamp)
    m2m.create("alzette/lamp", 23, {"m2m:sub": {"rn": "s2", "nu": [lamp]}}, origin=lamp)
    (event,) = receiver.events()
    assert event["nev"]["rep"]["m2m:uri"].startswith("/id-alzette/cnt")


def test_expiration_counter_ends_the_subscription(m2m, lamp, receiver):
    subscribe(m2m, "alzette/lamp/data", lamp, [receiver.url], enc={"net": [3]}, exc=2,
              su=receiver.url)  # fmt: skip
    for n in range(3):
        m2m.instance("alzette/lamp/data", str(n), lamp)
    assert len(receiver.events()) == 2
    assert not Resource.objects.filter(ty=23).exists()
    deletion = [r["m2m:sgn"] for r in receiver.received if r["m2m:sgn"].get("sud")]
    assert len(deletion) == 1


def test_unreachable_target_gets_everything_when_it_comes_back(m2m, lamp, receiver):
    subscribe(m2m, "alzette/lamp/data", lamp, [receiver.url], enc={"net": [3]}, nse=True)
    receiver.stop()
    for n in range(3):
        assert m2m.instance("alzette/lamp/data", str(n), lamp).status_code == 201
    pending = Notification.objects.filter(status=Notification.PENDING)
    assert pending.count() == 3
    assert pending.order_by("id").first().attempts == 1
    assert (
        "refused" in pending.order_by("id").first().last_error.lower() or pending.first().last_error
    )
    # The subscriber sees the failures: requests sent but not answered.
    nsi = m2m.retrieve("alzette/lamp/data/watch", origin=lamp).json()["m2m:sub"]["nsi"]
    assert nsi[0]["rqs"] > nsi[0]["rsr"] == 0
    receiver.start()
    later = timezone.now() + timedelta(hours=1)
    assert notifications.deliver_due(now=later) == (3, 0)
    assert [e["nev"]["rep"]["m2m:cin"]["con"] for e in receiver.events()] == ["0", "1", "2"]
    nsi = m2m.retrieve("alzette/lamp/data/watch", origin=lamp).json()["m2m:sub"]["nsi"]
    assert nsi[0]["rsr"] == 3 and nsi[0]["noec"] == 3


def test_send_latest_drops_what_piled_up(m2m, lamp, receiver):
    subscribe(m2m, "alzette/lamp/data", lamp, [receiver.url], enc={"net": [3]}, pn=1)
    receiver.stop()
    for n in range(3):
        m2m.instance("alzette/lamp/data", str(n), lamp)
    receiver.start()
    notifications.deliver_due(now=timezone.now() + timedelta(hours=1))
    assert [e["nev"]["rep"]["m2m:cin"]["con"] for e in receiver.events()] == ["2"]
    assert Notification.objects.filter(status=Notification.SUPERSEDED).count() == 2


def test_retries_back_off_and_give_up_after_the_ttl(m2m, lamp, receiver, settings):
    subscribe(m2m, "alzette/lamp/data", lamp, [receiver.url], enc={"net": [3]})
    receiver.stop()
    m2m.instance("alzette/lamp/data", "1", lamp)
    message = Notification.objects.get(status=Notification.PENDING)
    assert message.next_attempt_at > timezone.now()
    assert notifications.deliver_due() == (0, 0)  # not due yet
    settings.ALZETTE_ONEM2M_NOTIFICATION_TTL_HOURS = 1
    notifications.deliver_due(now=timezone.now() + timedelta(hours=2))
    message.refresh_from_db()
    assert message.status == Notification.FAILED
    receiver.start()


def test_batch_notifications(m2m, lamp, receiver):
    subscribe(m2m, "alzette/lamp/data", lamp, [receiver.url], enc={"net": [3]},
              bn={"num": 2, "dur": "PT60S"})  # fmt: skip
    m2m.instance("alzette/lamp/data", "1", lamp)
    assert len(receiver.received) == 1  # the verification only
    m2m.instance("alzette/lamp/data", "2", lamp)
    aggregated = receiver.received[-1]["m2m:agn"]["m2m:sgn"]
    assert [s["nev"]["rep"]["m2m:cin"]["con"] for s in aggregated] == ["1", "2"]
    m2m.instance("alzette/lamp/data", "3", lamp)
    notifications.deliver_due(now=timezone.now() + timedelta(seconds=61))
    assert receiver.received[-1]["m2m:agn"]["m2m:sgn"][0]["nev"]["rep"]["m2m:cin"]["con"] == "3"


def test_notification_to_an_ae_goes_to_its_point_of_access(m2m, receiver):
    app = m2m.register("dashboard", rr=True, poa=[receiver.url])["aei"]
    lamp = m2m.register("lamp2")["aei"]
    m2m.container("alzette/lamp2", "data", lamp)
    body = {
        "m2m:acp": {
            "pv": {"acr": [{"acor": [app], "acop": 2}]},
            "pvs": {"acr": [{"acor": [lamp], "acop": 63}]},
        }
    }
    acp = m2m.create("alzette/lamp2", 1, body, origin=lamp).json()["m2m:acp"]["ri"]
    m2m.update("alzette/lamp2/data", {"m2m:cnt": {"acpi": [acp]}}, origin=lamp)
    response = subscribe(m2m, "alzette/lamp2/data", app, [app], enc={"net": [3]})
    assert response.status_code == 201, response.json()
    m2m.instance("alzette/lamp2/data", "on", lamp)
    assert receiver.events()[0]["nev"]["rep"]["m2m:cin"]["con"] == "on"


def test_ae_without_reachability_keeps_its_notifications(m2m, lamp, receiver):
    subscribe(m2m, "alzette/lamp/data", lamp, [lamp], enc={"net": [3]})
    m2m.instance("alzette/lamp/data", "1", lamp)
    message = Notification.objects.get()
    assert message.status == Notification.PENDING
    assert "request-reachable" in message.last_error
    # The lamp becomes reachable: what waited is delivered.
    m2m.update("alzette/lamp", {"m2m:ae": {"rr": True, "poa": [receiver.url]}}, origin=lamp)
    notifications.deliver_due(now=timezone.now() + timedelta(hours=1))
    assert receiver.events()[0]["nev"]["rep"]["m2m:cin"]["con"] == "1"


def test_notify_is_forwarded_to_a_registered_ae(m2m, receiver):
    ae = m2m.register("gateway", rr=True, poa=[receiver.url])["aei"]
    response = m2m.client.post(
        "/onem2m/alzette/gateway",
        data=json.dumps({"m2m:sgn": {"nev": {"net": 1}, "sur": "/x/y"}}),
        content_type="application/json",
        headers={"X-M2M-Origin": ae, "X-M2M-RI": "n1"},
    )
    assert rsc(response) == 2000
    assert receiver.received[-1]["m2m:sgn"]["sur"] == "/x/y"


def test_content_instance_event_for_the_context_layer(m2m, lamp):
    from alzette.territory.onem2m.events import instance_created

    seen = []

    def receiver(sender, instance, container_path, **kwargs):
        seen.append((container_path, instance.attrs["con"]))

    def broken(sender, **kwargs):
        raise ValueError("a broken receiver never fails the device")

    instance_created.connect(receiver)
    instance_created.connect(broken)
    try:
        assert m2m.instance("alzette/lamp/data", "21.5", lamp).status_code == 201
        assert rsc(m2m.instance("alzette/lamp/data", "x" * 10, "Cstranger")) == 4103
    finally:
        instance_created.disconnect(receiver)
        instance_created.disconnect(broken)
    assert seen == [("alzette/lamp/data", "21.5")]


def test_notifications_are_delivered_in_a_thread_after_commit(m2m, lamp, receiver, settings):
    settings.ALZETTE_ONEM2M_DELIVERY = "worker"
    subscribe(m2m, "alzette/lamp/data", lamp, [receiver.url], enc={"net": [3]})
    m2m.instance("alzette/lamp/data", "1", lamp)
    assert receiver.events() == []
    from django.core.management import call_command

    call_command("onem2m", "deliver")
    assert len(receiver.events()) == 1
