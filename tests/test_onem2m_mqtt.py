"""The MQTT binding through the real Mosquitto broker (127.0.0.1:1883).

A device (a paho client) registers, creates a container and an instance with
TS-0010 request topics; an application's subscription reaches it over MQTT and
its acknowledgement flows back: the actuation loop street lighting relies on.
"""

from __future__ import annotations

import json
import queue
import socket
import threading
import uuid

import paho.mqtt.client as mqtt
import pytest

from alzette.territory.onem2m.bindings import mqtt as binding
from tests.conftest import ALL_DATABASES

BROKER = ("127.0.0.1", 1883)


def _broker_up() -> bool:
    try:
        socket.create_connection(BROKER, timeout=1).close()
    except OSError:
        return False
    return True


pytestmark = [
    pytest.mark.django_db(databases=ALL_DATABASES, transaction=True),
    pytest.mark.skipif(not _broker_up(), reason="Mosquitto is not running on 127.0.0.1:1883"),
]


class Device:
    """A oneM2M device speaking TS-0010 through the broker."""

    def __init__(self, cse_id: str, originator: str) -> None:
        self.cse_id = cse_id
        self.originator = originator
        self.responses: queue.Queue = queue.Queue()
        self.requests: queue.Queue = queue.Queue()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=uuid.uuid4().hex)
        self.client.on_message = self._on_message
        self.client.connect(*BROKER)
        self.client.loop_start()
        self._subscribe(originator)

    def _subscribe(self, originator: str) -> None:
        done = threading.Event()
        self.client.on_subscribe = lambda *args: done.set()
        for topic in (
            f"/oneM2M/resp/{originator}/{self.cse_id}/json",
            f"/oneM2M/reg_resp/{originator}/{self.cse_id}/json",
            f"/oneM2M/req/{self.cse_id}/{originator}/json",
        ):
            done.clear()
            self.client.subscribe(topic, qos=1)
            assert done.wait(5)

    def _on_message(self, client, userdata, message) -> None:
        body = json.loads(message.payload)
        if "/req/" in message.topic:
            self.requests.put(body)
            answer = {"rsc": 2000, "rqi": body["rqi"], "to": body["fr"], "fr": self.originator}
            client.publish(message.topic.replace("/req/", "/resp/"), json.dumps(answer), qos=1)
        else:
            self.responses.put(body)

    def request(self, primitive: dict, registration: bool = False) -> dict:
        kind = "reg_req" if registration else "req"
        primitive = {"rqi": uuid.uuid4().hex, "rvi": "3", "fr": self.originator, **primitive}
        topic = f"/oneM2M/{kind}/{self.originator}/{self.cse_id}/json"
        self.client.publish(topic, json.dumps(primitive), qos=1)
        answer = self.responses.get(timeout=10)
        assert answer["rqi"] == primitive["rqi"]
        return answer

    def become(self, originator: str) -> None:
        self.originator = originator
        self._subscribe(originator)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def cse(settings):
    """The CSE's MQTT binding running in a thread, on a CSE-ID of this test's own."""
    cse_id = f"id-test-{uuid.uuid4().hex[:8]}"
    settings.ALZETTE_ONEM2M_CSI = f"/{cse_id}"
    settings.ALZETTE_ONEM2M_MQTT_URL = f"mqtt://{BROKER[0]}:{BROKER[1]}"
    settings.ALZETTE_ONEM2M_DELIVERY = "sync"
    stop, ready = threading.Event(), threading.Event()
    thread = threading.Thread(
        target=binding.MqttBinding().serve, kwargs={"stop": stop, "ready": ready}, daemon=True
    )
    thread.start()
    assert ready.wait(10)
    yield cse_id
    stop.set()
    thread.join(10)


def test_device_round_trip_and_actuation(cse):
    device = Device(cse, "Cstreetlight-42")
    try:
        ae = {"m2m:ae": {"rn": "streetlight-42", "api": "Nlighting", "rr": True, "srv": ["3"],
                         "poa": [f"mqtt://{BROKER[0]}:{BROKER[1]}"]}}  # fmt: skip
        answer = device.request({"op": 1, "to": "alzette", "ty": 2, "pc": ae}, registration=True)
        assert answer["rsc"] == 2001, answer
        assert answer["pc"]["m2m:ae"]["aei"] == "Cstreetlight-42"
        assert answer["fr"] == f"/{cse}"
        for name in ("cmd", "ack"):
            created = device.request(
                {"op": 1, "to": "alzette/streetlight-42", "ty": 3, "pc": {"m2m:cnt": {"rn": name}}}
            )
            assert created["rsc"] == 2001
        # The lamp subscribes to its command container, notified at its AE-ID.
        sub = {"m2m:sub": {"rn": "commands", "nu": ["Cstreetlight-42"], "enc": {"net": [3]}}}
        answer = device.request({"op": 1, "to": "alzette/streetlight-42/cmd", "ty": 23, "pc": sub})
        assert answer["rsc"] == 2001, answer

        # An application (here the admin) writes a command: the lamp receives it by MQTT.
        from tests.onem2m_helpers import M2M

        command = M2M().instance("alzette/streetlight-42/cmd", "dim:50", "CAdmin")
        assert command.status_code == 201
        notification = device.requests.get(timeout=10)
        assert notification["op"] == 5
        assert notification["pc"]["m2m:sgn"]["nev"]["rep"]["m2m:cin"]["con"] == "dim:50"

        # ... and acknowledges it the same way, in its ack container.
        cin = {"m2m:cin": {"con": "dim:50 done", "cnf": "text/plain:0"}}
        answer = device.request({"op": 1, "to": "alzette/streetlight-42/ack", "ty": 4, "pc": cin})
        assert answer["rsc"] == 2001
        latest = device.request({"op": 2, "to": "alzette/streetlight-42/ack/la"})
        assert latest["pc"]["m2m:cin"]["con"] == "dim:50 done"
    finally:
        device.close()


def test_bad_requests_get_oneM2M_errors(cse):
    device = Device(cse, "Cbad")
    try:
        assert device.request({"op": 2, "to": "alzette/nowhere"})["rsc"] == 4004
        assert device.request({"op": 9, "to": "alzette"})["rsc"] == 4000
        # A request whose fr is not the topic's originator is refused.
        assert device.request({"op": 2, "to": "alzette", "fr": "Cother"})["rsc"] == 4103
        # Only registrations on reg_req.
        answer = device.request({"op": 2, "to": "alzette"}, registration=True)
        assert answer["rsc"] == 4000
        # Not JSON at all: still an answer, with the request id unknown.
        device.client.publish(f"/oneM2M/req/Cbad/{cse}/json", b"{oops", qos=1)
        assert device.responses.get(timeout=10)["rsc"] == 4000
    finally:
        device.close()


def test_handle_payload_without_broker(settings):
    settings.ALZETTE_ONEM2M_DELIVERY = "worker"
    answer = binding.handle_payload(
        json.dumps({"op": 2, "to": "alzette", "fr": "Cx", "rqi": "1"}).encode(), "Cx"
    )
    assert answer["rsc"] == 2000 and answer["pc"]["m2m:cb"]["csi"]
    assert binding.topic_id("/id-alzette/Cx") == "id-alzette:Cx"


def test_a_batch_commits_together_and_refusals_undo_only_themselves(settings):
    from alzette.territory.onem2m.models import Resource
    from tests.onem2m_helpers import M2M

    settings.ALZETTE_ONEM2M_DELIVERY = "worker"
    aei = M2M().register("batcher", origin="Cbatcher")["aei"]

    class Recorder:
        published: list = []

        def publish(self, topic, payload, qos=0):
            self.published.append((topic, json.loads(payload)))

    def request(rqi, pc, ty=3):
        primitive = {"op": 1, "to": "alzette/batcher", "fr": aei, "rqi": rqi, "ty": ty, "pc": pc}
        return f"/oneM2M/req/{aei}/id-alzette/json", json.dumps(primitive).encode()

    recorder = Recorder()
    binding._process(
        recorder,
        [
            request("a", {"m2m:cnt": {"rn": "one"}}),
            request("b", {"m2m:cnt": {"rn": "one"}}),  # the same name: 4105
            request("c", {"m2m:cnt": {"rn": "two", "mni": -1}}),  # 4000
            (f"/oneM2M/req/{aei}/id-alzette/json", b"{oops"),
            request("e", {"m2m:cnt": {"rn": "three"}}),
            ("/elsewhere/topic", b"{}"),  # not oneM2M: ignored, no answer
        ],
    )
    codes = [(answer["rqi"], answer["rsc"]) for _topic, answer in recorder.published]
    assert codes == [("a", 2001), ("b", 4105), ("c", 4000), ("", 4000), ("e", 2001)]
    assert recorder.published[0][0] == f"/oneM2M/resp/{aei}/id-alzette/json"
    names = set(Resource.objects.filter(pi=aei).values_list("rn", flat=True))
    assert names == {"one", "three"}


def test_instances_arriving_together_are_written_together(settings):
    from alzette.territory.onem2m.models import Notification, Resource
    from tests.onem2m_helpers import M2M

    settings.ALZETTE_ONEM2M_DELIVERY = "worker"
    m2m = M2M()
    aei = m2m.register("meter", origin="Cmeter")["aei"]
    m2m.container("alzette/meter", "flow", aei, mbs=20, mni=4)
    body = {"m2m:sub": {"rn": "w", "nu": [aei], "enc": {"net": [3]}}}
    assert m2m.create("alzette/meter/flow", 23, body, origin=aei).status_code == 201

    class Recorder:
        published: list = []

        def publish(self, topic, payload, qos=0):
            self.published.append(json.loads(payload))

    def cin(rqi, rcn=None, **attrs):
        primitive = {"op": 1, "to": "alzette/meter/flow", "fr": aei, "rqi": rqi, "ty": 4,
                     "pc": {"m2m:cin": attrs}}  # fmt: skip
        if rcn is not None:
            primitive["rcn"] = rcn
        return f"/oneM2M/req/{aei}/id-alzette/json", json.dumps(primitive).encode()

    recorder = Recorder()
    other = ("/oneM2M/req/Cstranger/id-alzette/json", json.dumps(
        {"op": 1, "to": "alzette/meter/flow", "fr": "Cstranger", "rqi": "x", "ty": 4,
         "pc": {"m2m:cin": {"con": "1"}}}).encode())  # fmt: skip
    binding._process(
        recorder,
        [
            cin("a", con="1"),
            cin("b", con="22", cs=2),  # cs is the CSE's to compute: 4000
            cin("c", con="x" * 21),  # larger than mbs: 5207
            cin("d", con="3", rn="named"),
            cin("d2", con="3", rn="named"),  # the same name again: 4105
            other,  # no right to write here: 4103
            cin("e", con="4", rcn=0),
            cin("f", con="5"),
            cin("g", con="6"),
        ],
    )
    codes = [(a["rqi"], a["rsc"]) for a in recorder.published]
    assert codes == [("a", 2001), ("b", 4000), ("c", 5207), ("d", 2001), ("d2", 4105),
                     ("x", 4103), ("e", 2001), ("f", 2001), ("g", 2001)]  # fmt: skip
    assert "pc" not in recorder.published[6]
    cnt = m2m.retrieve("alzette/meter/flow", origin=aei).json()["m2m:cnt"]
    # Five written, mni 4 keeps the last four; st counts every instance.
    assert (cnt["cni"], cnt["st"]) == (4, 5)
    kept = Resource.objects.filter(pi=cnt["ri"], ty=4).order_by("st")
    assert [r.attrs["con"] for r in kept] == ["3", "4", "5", "6"]
    assert Notification.objects.filter(subscription__startswith="sub").count() == 5
