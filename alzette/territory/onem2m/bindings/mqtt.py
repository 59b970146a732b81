"""MQTT binding (TS-0010) through an MQTT broker (Mosquitto).

Enabled when ``ALZETTE_ONEM2M_MQTT_URL`` names the broker; ``alzette onem2m
mqtt`` then runs the CSE's MQTT client (several may run: they share the request
subscription, ``$share/alzette-cse/...``, and the broker spreads requests).

Topics (ids with their leading "/" removed and other "/" turned into ":"):

* requests to the CSE: ``/oneM2M/req/<originator>/<cse-id>/json``, answered on
  ``/oneM2M/resp/<originator>/<cse-id>/json``;
* registration requests: ``/oneM2M/reg_req/<originator>/<cse-id>/json``,
  answered on ``/oneM2M/reg_resp/...``;
* requests from the CSE (notifications) to an AE: ``/oneM2M/req/<cse-id>/<ae-id>/json``,
  whose answer the CSE awaits on ``/oneM2M/resp/<cse-id>/<ae-id>/json``.

The broker authenticates clients; its ACL must let a client publish only on
topics carrying its own originator (docs/onem2m.md), which is why a request
whose ``fr`` differs from its topic's originator is refused.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import uuid
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from django.conf import settings
from django.db import close_old_connections, transaction

from alzette.core.repositories import TERRITORY
from alzette.territory.onem2m import config, cse, security
from alzette.territory.onem2m.bindings.base import Binding, DeliveryError
from alzette.territory.onem2m.constants import RSC
from alzette.territory.onem2m.errors import M2MError
from alzette.territory.onem2m.primitives import Request

logger = logging.getLogger(__name__)

SHARE_GROUP = "alzette-cse"


def topic_id(identifier: str) -> str:
    return identifier.lstrip("/").replace("/", ":")


def _client(url: str, client_id: str = "") -> mqtt.Client:
    parts = urlsplit(url)
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id or f"alzette-{uuid.uuid4().hex[:12]}",
        protocol=mqtt.MQTTv311,
    )
    if parts.username:
        client.username_pw_set(parts.username, parts.password)
    if parts.scheme == "mqtts":
        client.tls_set()
    return client


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    default = 8883 if parts.scheme == "mqtts" else 1883
    return parts.hostname or "127.0.0.1", parts.port or default


class MqttBinding(Binding):
    name = "mqtt"
    schemes = ("mqtt", "mqtts")

    def enabled(self) -> bool:
        return bool(settings.ALZETTE_ONEM2M_MQTT_URL)

    # --- Sending (notifications) ---------------------------------------------

    def send(self, url: str, receiver: str, primitive: dict[str, Any]) -> int:
        """Publish a request to ``receiver`` and wait for its response."""
        if not receiver:
            raise DeliveryError("an MQTT notification needs the receiver's AE-ID")
        me, them = topic_id(config.csi()), topic_id(receiver)
        answered = threading.Event()
        result: dict[str, Any] = {}

        def on_message(client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
            try:
                response = json.loads(message.payload)
            except ValueError:
                return
            if isinstance(response, dict) and response.get("rqi") == primitive["rqi"]:
                result.update(response)
                answered.set()

        subscribed = threading.Event()
        client = _client(url)
        client.on_message = on_message
        client.on_subscribe = lambda *args: subscribed.set()
        timeout = settings.ALZETTE_ONEM2M_NOTIFY_TIMEOUT
        try:
            client.connect(*_address(url), keepalive=30)
        except OSError as exc:
            raise DeliveryError(f"broker unreachable: {exc}") from None
        client.loop_start()
        try:
            client.subscribe(f"/oneM2M/resp/{me}/{them}/json", qos=1)
            if not subscribed.wait(timeout):
                raise DeliveryError("the broker did not confirm the subscription")
            info = client.publish(f"/oneM2M/req/{me}/{them}/json", json.dumps(primitive), qos=1)
            info.wait_for_publish(timeout)
            if not answered.wait(timeout):
                raise DeliveryError(f"{receiver} did not answer within {timeout} s")
        finally:
            client.loop_stop()
            client.disconnect()
        try:
            return int(result.get("rsc", 0))
        except (TypeError, ValueError):
            raise DeliveryError(f"invalid rsc {result.get('rsc')!r}") from None

    # --- Receiving -----------------------------------------------------------

    def serve(
        self, stop: threading.Event | None = None, ready: threading.Event | None = None
    ) -> None:
        """Run the CSE's MQTT client until ``stop`` is set (or forever)."""
        url = settings.ALZETTE_ONEM2M_MQTT_URL
        if not url:
            raise RuntimeError("ALZETTE_ONEM2M_MQTT_URL is not set")
        stop = stop or threading.Event()
        cse_id = topic_id(config.csi())
        inbox: queue.Queue = queue.Queue()
        client = _client(url)
        client.on_connect = lambda c, u, f, rc, p=None: _subscribe(c, cse_id, ready)
        # The network thread only queues; requests are handled here, in batches.
        client.on_message = lambda c, u, message: inbox.put((message.topic, message.payload))
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.connect(*_address(url), keepalive=30)
        client.loop_start()
        try:
            while not stop.is_set():
                batch = _next_batch(inbox)
                if batch:
                    _process(client, batch)
        finally:
            client.loop_stop()
            client.disconnect()


BATCH = 200


def _next_batch(inbox: queue.Queue) -> list[tuple[str, bytes]]:
    try:
        batch = [inbox.get(timeout=0.5)]
    except queue.Empty:
        return []
    while len(batch) < BATCH:
        try:
            batch.append(inbox.get_nowait())
        except queue.Empty:
            break
    return batch


def _process(client: mqtt.Client, batch: list[tuple[str, bytes]]) -> None:
    """Handle what arrived together in one transaction (``cse.handle_batch``: one
    request's refusal undoes only itself); answer after the commit, so that no
    device hears "created" of something that is not stored."""
    deferred: list = []
    answers: list[tuple[str, dict]] = []
    try:
        with transaction.atomic(using=TERRITORY):
            answers = _answers(batch, deferred)
    except Exception:
        logger.exception("a batch of %d oneM2M MQTT requests failed to commit", len(batch))
        deferred = []
        answers = [(topic, _failure(primitive)) for topic, primitive in answers]
    finally:
        close_old_connections()
    cse.after_commit(deferred)
    for topic, primitive in answers:
        client.publish(topic, json.dumps(primitive), qos=1)


def _failure(primitive: dict) -> dict:
    return {"rsc": int(RSC.INTERNAL_SERVER_ERROR), "rqi": primitive.get("rqi", ""),
            "pc": {"m2m:dbg": "internal server error"}}  # fmt: skip


def _answers(batch: list[tuple[str, bytes]], deferred: list) -> list[tuple[str, dict]]:
    """Parse each message; handle the valid requests together; answers in order."""
    slots: list[tuple[str, dict | Request]] = []
    for topic, payload in batch:
        parsed = _parse(topic, payload)
        if parsed is not None:
            slots.append(parsed)
    requests = [item for _, item in slots if isinstance(item, Request)]
    responses = iter(cse.handle_batch(requests, deferred))
    return [
        (topic, next(responses).primitive() if isinstance(item, Request) else item)
        for topic, item in slots
    ]


def _parse(topic: str, payload: bytes) -> tuple[str, dict | Request] | None:
    """(response topic, the request or the error answer), or None if not for us."""
    parts = topic.split("/")
    # "", "oneM2M", kind, originator, receiver, serialisation
    if len(parts) != 6 or parts[1] != "oneM2M" or parts[2] not in ("req", "reg_req"):
        logger.warning("ignored MQTT message on %s", topic)
        return None
    kind, originator, receiver, serialisation = parts[2], parts[3], parts[4], parts[5]
    if serialisation != "json":
        logger.warning("unsupported serialisation %s on %s", serialisation, topic)
        return None
    response_topic = f"/oneM2M/{kind.replace('req', 'resp')}/{originator}/{receiver}/json"
    return response_topic, parse_payload(payload, originator, registration=kind == "reg_req")


def _subscribe(client: mqtt.Client, cse_id: str, ready: threading.Event | None) -> None:
    for kind in ("req", "reg_req"):
        client.subscribe(f"$share/{SHARE_GROUP}//oneM2M/{kind}/+/{cse_id}/+", qos=1)
    if ready is not None:
        ready.set()
    logger.info("oneM2M MQTT binding listening for %s", cse_id)


def parse_payload(
    payload: bytes, topic_originator: str, registration: bool = False
) -> Request | dict:
    """One MQTT request checked against its topic: the Request, or the error answer."""
    try:
        raw = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raw = None
    rqi = raw.get("rqi", "") if isinstance(raw, dict) else ""
    try:
        request = Request.from_primitive(raw, principal=security.BROKER, binding="mqtt")
        if not registration and topic_id(request.fr) != topic_originator:
            raise M2MError(
                RSC.ORIGINATOR_HAS_NO_PRIVILEGE, "fr does not match the topic's originator"
            )
        if registration and not security.registering(request):
            raise M2MError(RSC.BAD_REQUEST, "reg_req carries AE registrations only")
    except M2MError as exc:
        fallback = Request(op=1, to="", fr=topic_originator, rqi=str(rqi))  # type: ignore[arg-type]
        return cse.error(fallback, exc.rsc, exc.dbg).primitive()
    return request


def handle_payload(payload: bytes, topic_originator: str, registration: bool = False) -> dict:
    """One MQTT request handled on its own: the response primitive."""
    parsed = parse_payload(payload, topic_originator, registration)
    if isinstance(parsed, dict):
        return parsed
    return cse.handle(parsed).primitive()
