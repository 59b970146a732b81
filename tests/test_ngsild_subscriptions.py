"""NGSI-LD subscriptions notifying a real HTTP receiver and a real MQTT broker."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from alzette.territory.ngsild import notifier, subscriptions
from alzette.territory.ngsild.models import Notification, Subscription
from tests.conftest import ALL_DATABASES
from tests.ngsild_helpers import NgsiLd, problem

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


class Receiver:
    """A subscriber's HTTP endpoint: records notifications, or refuses them."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.headers: list[dict] = []
        self.refuse = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if not receiver.refuse:
                    receiver.received.append(body)
                    receiver.headers.append(dict(self.headers))
                self.send_response(500 if receiver.refuse else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/notify"


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.ALZETTE_NGSILD_DELIVERY = "sync"
    settings.ALZETTE_NGSILD_NOTIFY_TIMEOUT = 2


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def ld():
    return NgsiLd()


def container(n: int, fill: float, lon: float = 6.0, lat: float = 49.47) -> dict:
    return {
        "id": f"urn:ngsi-ld:Bin:{n}",
        "type": "Bin",
        "fill": fill,
        "location": {"type": "Point", "coordinates": [lon, lat]},
    }


def subscribe(ld, receiver, **extra) -> str:
    body = {
        "type": "Subscription",
        "entities": [{"type": "Bin"}],
        "notification": {"endpoint": {"uri": receiver.url}},
        **extra,
    }
    response = ld.post("/subscriptions", body)
    assert response.status_code == 201, response.content
    return response["Location"].rsplit("/", 1)[-1]


def test_created_and_updated_entities_are_notified(ld, receiver):
    sub_id = subscribe(ld, receiver)
    ld.create(container(1, 0.2))
    ld.post("/entities/urn:ngsi-ld:Bin:1/attrs", {"fill": 0.4})
    assert len(receiver.received) == 2
    first = receiver.received[0]
    assert first["type"] == "Notification"
    assert first["subscriptionId"] == sub_id
    assert first["data"][0]["fill"] == {"type": "Property", "value": 0.2}
    assert receiver.received[1]["data"][0]["fill"]["value"] == 0.4
    assert "ngsi-ld-core-context" in receiver.headers[0]["Link"]
    shown = ld.get(f"/subscriptions/{sub_id}").json()
    assert shown["notification"]["timesSent"] == 2
    assert shown["notification"]["status"] == "ok"
    assert "lastSuccess" in shown["notification"]
    assert shown["status"] == "active"


def test_watched_attributes_q_and_format(ld, receiver):
    subscribe(
        ld,
        receiver,
        watchedAttributes=["fill"],
        q="fill>0.8",
        notification={
            "endpoint": {"uri": receiver.url},
            "format": "keyValues",
            "attributes": ["fill"],
        },
    )
    ld.create(container(1, 0.5))
    ld.post("/entities/urn:ngsi-ld:Bin:1/attrs", {"colour": "red"})  # not watched
    ld.post("/entities/urn:ngsi-ld:Bin:1/attrs", {"fill": 0.9})
    assert len(receiver.received) == 1
    assert receiver.received[0]["data"] == [{"id": "urn:ngsi-ld:Bin:1", "type": "Bin", "fill": 0.9}]


def test_geo_q_filters_notifications(ld, receiver):
    subscribe(
        ld,
        receiver,
        geoQ={"georel": "near;maxDistance==1000", "geometry": "Point", "coordinates": [6.0, 49.47]},
    )
    ld.create(container(1, 0.5))  # at the point
    ld.create(container(2, 0.5, lon=6.2))  # about 15 km away
    assert [n["data"][0]["id"] for n in receiver.received] == ["urn:ngsi-ld:Bin:1"]


def test_deletion_is_notified_when_asked(ld, receiver):
    subscribe(ld, receiver, notificationTrigger=["entityDeleted"])
    ld.create(container(1, 0.5))
    ld.delete("/entities/urn:ngsi-ld:Bin:1")
    assert len(receiver.received) == 1
    assert receiver.received[0]["data"][0]["id"] == "urn:ngsi-ld:Bin:1"
    assert "deletedAt" in receiver.received[0]["data"][0]


def test_throttling_and_paused_subscriptions(ld, receiver):
    sub_id = subscribe(ld, receiver, throttling=3600)
    ld.create(container(1, 0.1))
    ld.create(container(2, 0.1))
    assert len(receiver.received) == 1
    ld.patch(f"/subscriptions/{sub_id}", {"isActive": False, "throttling": 1})
    assert ld.get(f"/subscriptions/{sub_id}").json()["status"] == "paused"
    ld.create(container(3, 0.1))
    assert len(receiver.received) == 1


def test_a_failing_endpoint_is_retried_and_nothing_is_lost(ld, receiver):
    sub_id = subscribe(ld, receiver)
    receiver.refuse = True
    ld.create(container(1, 0.1))
    ld.create(container(2, 0.1))
    assert receiver.received == []
    shown = ld.get(f"/subscriptions/{sub_id}").json()["notification"]
    assert shown["status"] == "failed"
    assert shown["timesFailed"] >= 1
    assert Notification.objects.count() == 2
    receiver.refuse = False
    ld.create(container(3, 0.1))  # the endpoint is back, but older ones wait for their retry
    assert receiver.received == []
    later = datetime.now(UTC) + timedelta(hours=2)
    delivered, failed = notifier.deliver_due(later)
    assert (delivered, failed) == (3, 0)
    assert [n["data"][0]["id"] for n in receiver.received] == [
        "urn:ngsi-ld:Bin:1",
        "urn:ngsi-ld:Bin:2",
        "urn:ngsi-ld:Bin:3",
    ]
    assert not Notification.objects.exists()
    assert ld.get(f"/subscriptions/{sub_id}").json()["notification"]["status"] == "ok"


def test_time_interval_subscriptions_notify_periodically(ld, receiver):
    ld.create(container(1, 0.5))
    subscribe(ld, receiver, timeInterval=60)
    assert receiver.received == []
    assert subscriptions.due_periodic() == 1
    notifier.deliver_due()
    assert receiver.received[0]["data"][0]["id"] == "urn:ngsi-ld:Bin:1"
    assert subscriptions.due_periodic() == 0  # not due again before 60 s


def test_subscription_crud_and_listing(ld, receiver):
    sub_id = subscribe(ld, receiver, subscriptionName="full bins")
    listed = ld.get("/subscriptions", count="true")
    assert listed["NGSILD-Results-Count"] == "1"
    assert listed.json()[0]["subscriptionName"] == "full bins"
    assert ld.patch(f"/subscriptions/{sub_id}", {"q": "fill>0.9"}).status_code == 204
    assert ld.get(f"/subscriptions/{sub_id}").json()["q"] == "fill>0.9"
    assert ld.delete(f"/subscriptions/{sub_id}").status_code == 204
    assert problem(ld.get(f"/subscriptions/{sub_id}")) == "ResourceNotFound"
    again = subscribe(ld, receiver, id="urn:ngsi-ld:Subscription:fixed")
    assert again == "urn:ngsi-ld:Subscription:fixed"
    duplicate = ld.post(
        "/subscriptions",
        {
            "id": again,
            "type": "Subscription",
            "entities": [{"type": "Bin"}],
            "notification": {"endpoint": {"uri": receiver.url}},
        },
    )
    assert problem(duplicate) == "AlreadyExists"


@pytest.mark.parametrize(
    "body",
    [
        {"type": "Subscription", "notification": {"endpoint": {"uri": "http://x.org/n"}}},
        {"type": "Subscription", "entities": [{"type": "Bin"}]},
        {
            "type": "Subscription",
            "entities": [{"type": "Bin"}],
            "notification": {"endpoint": {"uri": "ftp://x.org/n"}},
        },
        {
            "type": "Subscription",
            "entities": [{"type": "Bin"}],
            "q": "fill>>",
            "notification": {"endpoint": {"uri": "http://x.org/n"}},
        },
        {
            "type": "Subscription",
            "entities": [{"type": "Bin"}],
            "geoQ": {"georel": "near", "geometry": "Point", "coordinates": [6, 49]},
            "notification": {"endpoint": {"uri": "http://x.org/n"}},
        },
        {
            "type": "Subscription",
            "entities": [{"type": "Bin"}],
            "throttling": -1,
            "notification": {"endpoint": {"uri": "http://x.org/n"}},
        },
        {
            "type": "Subscription",
            "entities": [{"type": "Bin"}],
            "expiresAt": "2001-01-01T00:00:00Z",
            "notification": {"endpoint": {"uri": "http://x.org/n"}},
        },
        {
            "type": "Subscription",
            "entities": [{"type": "Bin"}],
            "notificationTrigger": ["x"],
            "notification": {"endpoint": {"uri": "http://x.org/n"}},
        },
        {
            "type": "Subscription",
            "entities": [{"type": "Bin"}],
            "notification": {"endpoint": {"uri": "mqtt://localhost:1883"}},
        },
        {
            "type": "Subscription",
            "entities": [{"type": "Bin"}],
            "surprise": 1,
            "notification": {"endpoint": {"uri": "http://x.org/n"}},
        },
    ],
)
def test_bad_subscriptions(ld, body):
    response = ld.post("/subscriptions", body)
    assert response.status_code == 400, response.content
    assert problem(response) == "BadRequestData"
    assert not Subscription.objects.exists()


def test_subscriptions_need_a_writer(ld, settings, receiver):
    settings.ALZETTE_NGSILD_OPEN = False
    response = ld.post(
        "/subscriptions",
        {
            "type": "Subscription",
            "entities": [{"type": "Bin"}],
            "notification": {"endpoint": {"uri": receiver.url}},
        },
    )
    assert response.status_code == 401


@pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)
def test_notification_over_mqtt_through_mosquitto(ld):
    paho = pytest.importorskip("paho.mqtt.client")
    topic = f"alzette-test/{uuid.uuid4().hex}"
    got: list[dict] = []
    ready = threading.Event()
    client = paho.Client(paho.CallbackAPIVersion.VERSION2)
    client.on_connect = lambda c, *a: (c.subscribe(topic, qos=1), ready.set())
    client.on_message = lambda c, u, m: got.append(json.loads(m.payload))
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    try:
        assert ready.wait(5)
        time.sleep(0.2)
        ld.post(
            "/subscriptions",
            {
                "type": "Subscription",
                "entities": [{"type": "Bin"}],
                "notification": {
                    "endpoint": {
                        "uri": f"mqtt://127.0.0.1:1883/{topic}",
                        "notifierInfo": [{"key": "MQTT-QoS", "value": "1"}],
                    }
                },
            },
        )
        ld.create(container(1, 0.3))
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        client.loop_stop()
        client.disconnect()
    assert got, "no notification reached the MQTT broker"
    assert got[0]["body"]["data"][0]["id"] == "urn:ngsi-ld:Bin:1"
    assert got[0]["metadata"]["Content-Type"] == "application/json"


def test_a_device_message_notifies_subscribers(ld, receiver, m2m, settings):
    from alzette.territory.ngsild import mapping

    settings.ALZETTE_ONEM2M_DELIVERY = "worker"
    mapping.define(name="meters", container="alzette/*/temp", entity_type="Meter",
                   entity_id="urn:ngsi-ld:Meter:{ae}", attribute="temperature")  # fmt: skip
    ld.post("/subscriptions", {"type": "Subscription", "entities": [{"type": "Meter"}],
                               "notification": {"endpoint": {"uri": receiver.url}}})  # fmt: skip
    ae = m2m.register("meter9")
    m2m.container("alzette/meter9", "temp", ae["aei"])
    m2m.instance("alzette/meter9/temp", "19.5", ae["aei"])
    m2m.instance("alzette/meter9/temp", "20.0", ae["aei"])
    values = [n["data"][0]["temperature"]["value"] for n in receiver.received]
    assert values == [19.5, 20.0]
    assert receiver.received[0]["data"][0]["temperature"]["observedAt"].endswith("Z")
