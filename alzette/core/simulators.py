"""Device simulators: a registry, their base class, the clock and the transports.

``alzette simulate <name>`` runs one ``Simulator`` (docs/simulators.md). A
simulator describes its fleet of oneM2M devices (``setup``) and, step by step
on a simulated clock, what happened since the last step (``step``): readings
for the devices' containers, calls to other HTTP APIs, actions in-process. The
runner here registers the devices through oneM2M (HTTP, TS-0009, or MQTT,
TS-0010), sends what the steps produce and displays the progress.

Devices may take commands (``Device.commands``): they register request-reachable
with an ACP and a subscription on their command container; the CSE's
notifications reach the runner (``HttpListener``, or the broker) and each command
is handed to ``Simulator.on_command``, whose answers are sent at once.

The simulated clock never runs ahead of the real one: the platform quarantines
observations from the future. An accelerated run therefore replays the past
up to now, then continues at the real pace (``Clock``).

Registry: setting ``ALZETTE_SIMULATORS`` (dotted paths of ``Simulator``
subclasses, each with a unique ``name``); the default is ``DEFAULT_SIMULATORS``.
"""

from __future__ import annotations

import http.client
import http.server
import json
import logging
import math
import queue
import threading
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, TextIO, TypeVar
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

DEFAULT_SIMULATORS = [
    "alzette.territory.waste.simulator.WasteSimulator",
    "alzette.territory.lighting.simulator.LightingSimulator",
    "alzette.territory.water.simulator.WaterSimulator",
]
#: oneM2M release the simulated devices speak.
RELEASE = "3"
#: oneM2M statuses a registration may meet and carry on: created, name taken
#: (already registered by an earlier run), originator already registered.
ALREADY_THERE = {2001, 4105, 4117}
#: Statuses that mean the simulator itself is not allowed: stop, fix the key.
FORBIDDEN = {4103, 4107}


# --- What a simulator describes and produces ---------------------------------------


@dataclass(frozen=True)
class Container:
    """A oneM2M container of a device: ``mni`` instances kept at most, each
    ``mia`` seconds at most (short for what carries near-personal data)."""

    name: str
    mni: int = 1000
    mia: int = 30 * 86400
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Device:
    """A oneM2M AE: resource name ``name``, AE-ID (originator) ``C<name>``.

    A device that takes commands names its command container in ``commands``
    (one of its containers, e.g. "cmd"): it registers request-reachable
    (``rr``, a ``poa`` where the runner listens), grants ``commanders`` create
    and retrieve on that container with an ACP, and subscribes to it; what the
    CSE notifies reaches ``Simulator.on_command``."""

    name: str
    containers: tuple[Container, ...]
    app_id: str = "Nalzette-simulator"
    labels: tuple[str, ...] = ()
    commands: str = ""
    commanders: tuple[str, ...] = ()

    @property
    def originator(self) -> str:
        return f"C{self.name}"


@dataclass(frozen=True)
class Reading:
    """One contentInstance: ``content`` (a JSON object) in ``device/container``."""

    device: str
    container: str
    content: dict[str, Any]


@dataclass
class ApiCall:
    """A call to an HTTP API of the platform beside oneM2M (a centre's gate).

    ``on_response(status, body)`` is called with the answer (status 0 when the
    call could not be made)."""

    method: str
    path: str
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    label: str = "api"
    on_response: Callable[[int, Any], None] | None = None


@dataclass
class Action:
    """Something done in-process, on the same databases (an agent's report)."""

    label: str
    run: Callable[[], Any]


Message = Reading | ApiCall | Action

#: The ACP and subscription a commandable device creates (resource names).
COMMAND_ACP = "commands-acp"
COMMAND_SUB = "commands-sub"


@dataclass(frozen=True)
class Incoming:
    """A command a device received: the content of the instance created in its
    command container (the JSON object, or the raw text), and when it arrived."""

    device: str
    content: Any
    received: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))


@dataclass
class Environment:
    """What the command gives a simulator besides its options: where the HTTP API
    is (``api_url``; None over MQTT without ``--url``) and look-ups it may need
    from the other repository (``gate_key(centre)``, ``badges(centre)``)."""

    api_url: str | None = None
    gate_key: Callable[[str], str | None] = lambda centre: None
    badges: Callable[[str], list[str]] = lambda centre: []
    notes: list[str] = field(default_factory=list)


class Simulator:
    """Base class of simulators; subclasses set ``name`` and ``help``.

    Life cycle (driven by ``run``):

    1. ``__init__(options, seed, devices, env)``: ``options`` are the parsed
       command-line options (``add_arguments`` declares the simulator's own),
       ``devices`` the requested device count (None: all), ``env`` the
       ``Environment``.
    2. ``setup(start)`` returns the fleet (``Device`` list) to register through
       oneM2M, before the first step; ``start`` is the simulated clock's start.
    3. ``step(now, live)`` is called for each tick of the simulated clock and
       returns what happened in (previous tick, ``now``]: ``Reading``,
       ``ApiCall`` and ``Action`` objects. ``now`` is never ahead of the real
       clock; ``live`` says the clock has caught up with it (an API that stamps
       with the server's time, a gate, should only be called then).

    Randomness comes from ``self.random(key)``: one generator per key seeded
    from ``--seed``, so that a run is reproducible and a device's behaviour does
    not depend on how many others there are.
    """

    name: str = ""
    help: str = ""
    #: Originator patterns of the fleet, for the key a command issues (``Cbin-*``).
    originators: tuple[str, ...] = ()

    def __init__(
        self,
        options: dict[str, Any],
        *,
        seed: int = 0,
        devices: int | None = None,
        env: Environment | None = None,
    ) -> None:
        self.options = options
        self.seed = seed
        self.devices = devices
        self.env = env or Environment()

    @classmethod
    def add_arguments(cls, parser: Any) -> None:
        """Declare the simulator's own options (an argparse parser)."""

    def random(self, key: str) -> Any:
        import random

        return random.Random(zlib.crc32(f"{self.seed}:{self.name}:{key}".encode()))  # noqa: S311

    def setup(self, start: datetime) -> list[Device]:
        raise NotImplementedError

    def step(self, now: datetime, live: bool) -> Iterable[Message]:
        raise NotImplementedError

    def on_command(self, device: str, content: Any, now: datetime) -> Iterable[Message]:
        """A command reached ``device`` (simulated time ``now``): what it answers.
        Devices that take commands override this; the default ignores them."""
        return []

    def close(self) -> None:
        """Called once the run ends (to release what setup took)."""


@cache
def registry() -> dict[str, type[Simulator]]:
    """The simulators by name, from ``ALZETTE_SIMULATORS``."""
    found: dict[str, type[Simulator]] = {}
    for path in getattr(settings, "ALZETTE_SIMULATORS", DEFAULT_SIMULATORS):
        cls = import_string(path)
        if not (isinstance(cls, type) and issubclass(cls, Simulator)) or not cls.name:
            raise TypeError(f"{path} is not a Simulator subclass with a name")
        if cls.name in found:
            raise TypeError(f"two simulators are named {cls.name!r}")
        found[cls.name] = cls
    return found


def iso(moment: datetime) -> str:
    """The "t" of a content: ISO 8601, UTC, to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- The simulated clock --------------------------------------------------------------


T = TypeVar("T")


def crossed(before: datetime, now: datetime, period_minutes: int, phase: int) -> bool:
    """Whether a multiple of ``period_minutes`` (shifted by ``phase``) lies in (before, now]:
    a device reporting every period, each at its own minute, reports in this tick."""
    a = int(before.timestamp() // 60) - phase
    b = int(now.timestamp() // 60) - phase
    return b // period_minutes > a // period_minutes


def poisson(rng: Any, mean: float) -> int:
    """A Poisson draw (events in a tick); normal approximation above 30."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def spread(items: Iterable[T], count: int, group: Callable[[T], str],
              order: Callable[[T], Any]) -> list[T]:  # fmt: skip
    """``count`` items taken in turn from each group (commune, district), so a small
    fleet covers several; in ``order``."""
    by_group: dict[str, list[T]] = {}
    for item in items:
        by_group.setdefault(group(item), []).append(item)
    chosen: list[T] = []
    queues = [list(members) for _, members in sorted(by_group.items())]
    while len(chosen) < count and any(queues):
        for members in queues:
            if members and len(chosen) < count:
                chosen.append(members.pop(0))
    return sorted(chosen, key=order)


@dataclass
class Clock:
    """Simulated time ``start + k * tick`` for step ``k``, ``speed`` times as fast as
    real time but never ahead of it: step ``k`` is due when both the accelerated
    schedule and the real clock have reached it. Once caught up, the simulation
    runs at the real pace."""

    start: datetime
    speed: float
    tick: timedelta
    wall_start: datetime = field(default_factory=lambda: datetime.now(UTC))
    mono_start: float = field(default_factory=time.monotonic)

    @staticmethod
    def start_for(
        now: datetime, speed: float, span: timedelta | None, default_history: timedelta
    ) -> datetime:
        """Where to start so that an accelerated run of simulated length ``span``
        meets the real clock when it ends: ``now - span * (1 - 1/speed)``. With no
        known span (a run until stopped), replay ``default_history`` first."""
        if speed <= 1:
            return now
        if span is None:
            return now - default_history
        return now - span * (1 - 1 / speed)

    def at(self, k: int) -> datetime:
        return self.start + self.tick * k

    def due(self, k: int) -> float:
        """The monotonic time at which step ``k`` may run."""
        paced = self.tick.total_seconds() * k / self.speed
        real = (self.at(k) - self.wall_start).total_seconds()
        return self.mono_start + max(paced, real)

    def lag(self, k: int) -> timedelta:
        """How far step ``k`` is behind the real clock."""
        return datetime.now(UTC) - self.at(k)


# --- Transports --------------------------------------------------------------------


class TransportError(Exception):
    """The transport cannot go on (server unreachable, the key refused): fatal."""


def _body(response_pc: Any) -> str:
    if isinstance(response_pc, dict) and "m2m:dbg" in response_pc:
        return str(response_pc["m2m:dbg"])
    return ""


class Transport:
    """Sends oneM2M requests for devices; subclasses implement ``request``."""

    name = ""

    def __init__(self, *, cse_rn: str, cse_id: str, key: str | None = None) -> None:
        self.cse_rn = cse_rn
        self.cse_id = cse_id
        self.key = key
        #: Commands received (``Incoming``), drained by ``run``.
        self.inbox: queue.Queue[Incoming] = queue.Queue()

    def points_of_access(self, device: Device) -> list[str]:
        """Where the CSE reaches a device that takes commands (starts listening)."""
        raise TransportError(f"the {self.name} transport cannot receive commands")

    def requests(self, items: list[dict[str, Any]]) -> list[tuple[int, Any]]:
        """Send request primitives; their (rsc, pc) in order. Raises TransportError."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    # -- Primitives --

    def _primitive(self, op: int, to: str, fr: str, ty: int | None, pc: Any) -> dict[str, Any]:
        primitive: dict[str, Any] = {"op": op, "to": to, "fr": fr, "rqi": uuid.uuid4().hex,
                                     "rvi": RELEASE}  # fmt: skip
        if ty is not None:
            primitive["ty"] = ty
        if pc is not None:
            primitive["pc"] = pc
        return primitive

    def register(self, devices: list[Device]) -> int:
        """Register AEs then their containers (idempotent); how many were new.

        A device that takes commands registers ``rr: true`` with its ``poa``, then
        creates an ACP granting its commanders create + retrieve (acop 3), its
        containers (the command container's ``acpi`` naming the ACP) and a
        subscription to the command container notifying its own AE-ID (``net``
        3, a direct child created). Already there from an earlier run: the poa
        and the acpi are updated (the listening port changes)."""
        new = 0
        poa = {d.name: self.points_of_access(d) for d in devices if d.commands}
        aes = []
        for d in devices:
            ae: dict[str, Any] = {"rn": d.name, "api": d.app_id, "rr": d.name in poa,
                                  "srv": [RELEASE], "lbl": list(d.labels)}  # fmt: skip
            if d.name in poa:
                ae["poa"] = poa[d.name]
            aes.append(self._primitive(1, self.cse_rn, d.originator, 2, {"m2m:ae": ae}))
        updates: list[tuple[Device, dict[str, Any]]] = []
        for device, (rsc, pc) in zip(devices, self.requests(aes), strict=True):
            self._check_registration(device.name, rsc, pc)
            new += rsc == 2001
            if rsc != 2001 and device.name in poa:
                updates.append((device, self._primitive(
                    3, f"{self.cse_rn}/{device.name}", device.originator, None,
                    {"m2m:ae": {"rr": True, "poa": poa[device.name]}})))  # fmt: skip
        acps = [
            (d, self._primitive(1, f"{self.cse_rn}/{d.name}", d.originator, 1, {"m2m:acp": {
                "rn": COMMAND_ACP,
                "pv": {"acr": [{"acor": list(d.commanders), "acop": 3}]},
                "pvs": {"acr": [{"acor": [d.originator], "acop": 63}]}}}))
            for d in devices if d.commands and d.commanders
        ]  # fmt: skip
        self._registered(updates + acps)
        containers = []
        for device in devices:
            for c in device.containers:
                cnt: dict[str, Any] = {"rn": c.name, "mni": c.mni, "mia": c.mia,
                                       "lbl": list(c.labels)}  # fmt: skip
                if c.name == device.commands and device.commanders:
                    cnt["acpi"] = [f"{self.cse_rn}/{device.name}/{COMMAND_ACP}"]
                containers.append(
                    (
                        device,
                        self._primitive(
                            1,
                            f"{self.cse_rn}/{device.name}",
                            device.originator,
                            3,
                            {"m2m:cnt": cnt},
                        ),
                    )
                )
        answers = self.requests([p for _, p in containers])
        again: list[tuple[Device, dict[str, Any]]] = []
        for (device, primitive), (rsc, pc) in zip(containers, answers, strict=True):
            self._check_registration(device.name, rsc, pc)
            cnt = primitive["pc"]["m2m:cnt"]
            if rsc != 2001 and "acpi" in cnt:
                again.append((device, self._primitive(
                    3, f"{self.cse_rn}/{device.name}/{cnt['rn']}", device.originator, None,
                    {"m2m:cnt": {"acpi": cnt["acpi"]}})))  # fmt: skip
        subscriptions = [
            (d, self._primitive(1, f"{self.cse_rn}/{d.name}/{d.commands}", d.originator, 23,
                                {"m2m:sub": {"rn": COMMAND_SUB, "nu": [d.originator],
                                             "enc": {"net": [3]}, "nct": 1}}))
            for d in devices if d.commands
        ]  # fmt: skip
        self._registered(again + subscriptions)
        return new

    def _registered(self, items: list[tuple[Device, dict[str, Any]]]) -> None:
        answers = self.requests([p for _, p in items])
        for (device, primitive), (rsc, pc) in zip(items, answers, strict=True):
            if primitive["op"] == 3 and rsc == 2004:
                continue
            self._check_registration(device.name, rsc, pc)

    def _check_registration(self, name: str, rsc: int, pc: Any) -> None:
        if rsc in ALREADY_THERE:
            return
        detail = _body(pc)
        if rsc in FORBIDDEN:
            raise TransportError(
                f"the CSE refused {name} ({rsc} {detail}): pass an organisation key with --key"
            )
        raise TransportError(f"registering {name} failed: {rsc} {detail}")

    def publish(self, readings: list[Reading]) -> list[tuple[int, Any]]:
        """Create one contentInstance per reading; (rsc, pc) of each."""
        primitives = []
        for reading in readings:
            primitive = self._primitive(
                1, f"{self.cse_rn}/{reading.device}/{reading.container}",
                f"C{reading.device}", 4,
                {"m2m:cin": {"con": json.dumps(reading.content, separators=(",", ":")),
                             "cnf": "application/json:0"}},
            )  # fmt: skip
            primitive["rcn"] = 0  # the answer need not repeat the instance
            primitives.append(primitive)
        return self.requests(primitives)


class HttpConnection:
    """One persistent HTTP/1.1 connection (http.client, standard library), reopened
    when the server closes it; a few retries before giving up (TransportError)."""

    RETRIES = 3

    def __init__(self, url: str, timeout: float = 30) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url}")
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.https else 80)
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def _open(self) -> http.client.HTTPConnection:
        if self._connection is None:
            cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
            self._connection = cls(self.host, self.port, timeout=self.timeout)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        last: Exception | None = None
        for attempt in range(self.RETRIES):
            connection = self._open()
            try:
                connection.request(method, self.prefix + path, body=body, headers=headers)
                answer = connection.getresponse()
                data = answer.read()
            except (OSError, http.client.HTTPException) as exc:
                last = exc
                self.close()
                time.sleep(0.2 * attempt)
                continue
            if answer.getheader("Connection", "").lower() == "close":
                self.close()
            return answer.status, {k.lower(): v for k, v in answer.getheaders()}, data
        raise TransportError(f"{self.host}:{self.port} unreachable: {last}")


def command_content(primitive_content: Any) -> Any | None:
    """The content of the instance a notification (``m2m:sgn``) reports, or None
    (a verification request, a deletion notice, something else)."""
    sgn = primitive_content.get("m2m:sgn") if isinstance(primitive_content, dict) else None
    if not isinstance(sgn, dict) or sgn.get("vrq") or sgn.get("sud"):
        return None
    rep = (sgn.get("nev") or {}).get("rep") if isinstance(sgn.get("nev"), dict) else None
    cin = rep.get("m2m:cin") if isinstance(rep, dict) else None
    if not isinstance(cin, dict) or "con" not in cin:
        return None
    con = cin["con"]
    if isinstance(con, str):
        try:
            return json.loads(con)
        except ValueError:
            return con
    return con


class HttpListener:
    """Where the CSE notifies simulated devices over HTTP: a small threaded server
    (standard library) on ``host:port`` (port 0: any free one). ``POST /<device>``
    with a notification answers 200, ``X-M2M-RSC: 2000`` (verification requests
    too) and queues the command in ``inbox``."""

    def __init__(self, inbox: queue.Queue, host: str = "127.0.0.1", port: int = 0) -> None:
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(data) if data else None
                except ValueError:
                    body = None
                device = self.path.split("?", 1)[0].strip("/").rsplit("/", 1)[-1]
                content = command_content(body)
                if content is not None and device:
                    listener.inbox.put(Incoming(device, content))
                self.send_response(200)
                self.send_header("X-M2M-RSC", "2000")
                self.send_header("X-M2M-RI", self.headers.get("X-M2M-RI", ""))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                logger.debug("listener: " + format, *args)

        self.inbox = inbox
        try:
            self.server = http.server.ThreadingHTTPServer((host, port), Handler)
        except OSError as exc:
            raise TransportError(f"cannot listen on {host}:{port}: {exc}") from None
        self.server.daemon_threads = True
        self.host = host
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       name="simulator-listener", daemon=True)  # fmt: skip
        self.thread.start()

    def url(self, device: str) -> str:
        return f"http://{self.host}:{self.port}/{device}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class HttpTransport(Transport):
    """oneM2M HTTP binding (TS-0009) at ``<url>/onem2m/``; commands to devices are
    received by an ``HttpListener`` (``listen``: host and port, 127.0.0.1 and any
    free port by default), started when a device that takes commands registers."""

    name = "http"
    #: Parallel connections: a device's requests stay in order on one of them.
    CONNECTIONS = 8

    def __init__(self, url: str, *, listen: tuple[str, int] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.connections = [HttpConnection(url) for _ in range(self.CONNECTIONS)]
        self.pool = ThreadPoolExecutor(self.CONNECTIONS, thread_name_prefix="simulator-http")
        self.listen = listen or ("127.0.0.1", 0)
        self.listener: HttpListener | None = None

    def points_of_access(self, device: Device) -> list[str]:
        if self.listener is None:
            self.listener = HttpListener(self.inbox, *self.listen)
        return [self.listener.url(device.name)]

    def requests(self, items: list[dict[str, Any]]) -> list[tuple[int, Any]]:
        """Requests for one target in order on one connection; targets spread over all."""
        lanes: list[list[int]] = [[] for _ in self.connections]
        for index, primitive in enumerate(items):
            lanes[zlib.crc32(primitive["to"].encode()) % len(lanes)].append(index)
        results: list[tuple[int, Any]] = [(0, None)] * len(items)

        def work(lane: int) -> None:
            for index in lanes[lane]:
                results[index] = self._one(self.connections[lane], items[index])

        busy = [n for n, lane in enumerate(lanes) if lane]
        if len(busy) == 1:
            work(busy[0])
            return results
        for future in [self.pool.submit(work, n) for n in busy]:
            future.result()  # re-raises a TransportError
        return results

    def _one(self, connection: HttpConnection, primitive: dict[str, Any]) -> tuple[int, Any]:
        headers = {"X-M2M-Origin": primitive["fr"], "X-M2M-RI": primitive["rqi"],
                   "X-M2M-RVI": primitive["rvi"], "Accept": "application/json"}  # fmt: skip
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        method, body, query = "GET", None, {}
        if primitive["op"] == 1:
            method = "POST"
            headers["Content-Type"] = f"application/json;ty={primitive['ty']}"
            body = json.dumps(primitive.get("pc") or {}).encode()
        elif primitive["op"] == 3:
            method = "PUT"
            headers["Content-Type"] = "application/json"
            body = json.dumps(primitive.get("pc") or {}).encode()
        if "rcn" in primitive:
            query["rcn"] = primitive["rcn"]
        path = "/onem2m/" + primitive["to"] + (f"?{urlencode(query)}" if query else "")
        status, answer_headers, data = connection.request(method, path, body, headers)
        try:
            rsc = int(answer_headers.get("x-m2m-rsc", ""))
        except ValueError:
            raise TransportError(
                f"{path}: HTTP {status} without X-M2M-RSC: is this an Alzette CSE?"
            ) from None
        try:
            pc = json.loads(data) if data else None
        except ValueError:
            pc = None
        return rsc, pc

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        for connection in self.connections:
            connection.close()
        if self.listener is not None:
            self.listener.close()
            self.listener = None


class MqttTransport(Transport):
    """oneM2M MQTT binding (TS-0010): requests on ``/oneM2M/req/<originator>/<cse-id>/json``
    (``reg_req`` to register), answers awaited on ``resp`` (``reg_resp``).

    One broker connection speaks for every simulated device; requests are
    pipelined (published together, answers matched by ``rqi``). Devices that take
    commands give the broker as their ``poa``: the CSE publishes notifications on
    ``/oneM2M/req/<cse-id>/<AE-ID>/json`` and reads the answer on ``resp``."""

    name = "mqtt"
    TIMEOUT = 30.0

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        import paho.mqtt.client as mqtt

        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError(f"not an mqtt(s) URL: {url}")
        self.topic_cse = self.cse_id.lstrip("/").replace("/", ":")
        self.answers: queue.Queue = queue.Queue()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"alzette-sim-{uuid.uuid4().hex[:10]}",
            protocol=mqtt.MQTTv311,
        )
        if parts.username:
            self.client.username_pw_set(parts.username, parts.password)
        if parts.scheme == "mqtts":
            self.client.tls_set()
        port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
        self.broker = f"{parts.scheme}://{parts.hostname}:{port}"
        self.listening = False
        subscribed = threading.Event()
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: subscribed.set()
        try:
            self.client.connect(parts.hostname, port, keepalive=30)
        except OSError as exc:
            raise TransportError(
                f"MQTT broker {parts.hostname}:{port} unreachable: {exc}"
            ) from None
        self.client.loop_start()
        self.client.subscribe(
            [(f"/oneM2M/{kind}/+/{self.topic_cse}/json", 1) for kind in ("resp", "reg_resp")]
        )
        if not subscribed.wait(self.TIMEOUT):
            self.close()
            raise TransportError("the MQTT broker did not confirm the subscription")

    def points_of_access(self, device: Device) -> list[str]:
        if not self.listening:
            self.client.subscribe(f"/oneM2M/req/{self.topic_cse}/+/json", qos=1)
            self.listening = True
        return [self.broker]

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        try:
            answer = json.loads(message.payload)
        except ValueError:
            return
        if not isinstance(answer, dict):
            return
        parts = message.topic.split("/")
        if len(parts) == 6 and parts[2] == "req":
            self._on_request(parts[4], answer)
        else:
            self.answers.put(answer)

    def _on_request(self, receiver: str, primitive: dict[str, Any]) -> None:
        """A request of the CSE to a device (a notification): queue it, answer 2000."""
        content = command_content(primitive.get("pc"))
        if content is not None and receiver.startswith("C"):
            self.inbox.put(Incoming(receiver[1:], content))
        response = {"rsc": 2000, "rqi": primitive.get("rqi", ""), "rvi": RELEASE,
                    "to": primitive.get("fr", ""), "fr": receiver}  # fmt: skip
        self.client.publish(f"/oneM2M/resp/{self.topic_cse}/{receiver}/json",
                            json.dumps(response), qos=1)  # fmt: skip

    def requests(self, items: list[dict[str, Any]]) -> list[tuple[int, Any]]:
        pending = {p["rqi"]: i for i, p in enumerate(items)}
        results: list[tuple[int, Any]] = [(0, None)] * len(items)
        for primitive in items:
            registering = primitive["op"] == 1 and primitive.get("ty") == 2
            kind = "reg_req" if registering else "req"
            origin = primitive["fr"].lstrip("/").replace("/", ":")
            topic = f"/oneM2M/{kind}/{origin}/{self.topic_cse}/json"
            self.client.publish(topic, json.dumps(primitive), qos=1)
        deadline = time.monotonic() + self.TIMEOUT
        while pending:
            try:
                answer = self.answers.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise TransportError(
                    f"{len(pending)} oneM2M request(s) unanswered over MQTT after "
                    f"{self.TIMEOUT:.0f} s: is the CSE's MQTT binding running "
                    "(alzette onem2m mqtt)?"
                ) from None
            index = pending.pop(str(answer.get("rqi", "")), None)
            if index is not None:
                try:
                    results[index] = (int(answer.get("rsc", 0)), answer.get("pc"))
                except (TypeError, ValueError):
                    results[index] = (0, answer.get("pc"))
        return results

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


# --- Running ------------------------------------------------------------------------


@dataclass
class Stats:
    devices: int = 0
    registered: int = 0
    steps: int = 0
    sent: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    calls: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    #: Commands received, by device kind (the name's first part: "streetlight").
    received: Counter = field(default_factory=Counter)
    first_errors: list[str] = field(default_factory=list)
    simulated_from: datetime | None = None
    simulated_to: datetime | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def messages(self) -> int:
        return sum(self.sent.values())

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def error(self, key: str, detail: str) -> None:
        self.errors[key] += 1
        if len(self.first_errors) < 5:
            self.first_errors.append(detail)

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.messages / elapsed if elapsed > 0 else 0.0


class Progress:
    """A single updating line on a terminal; a plain line every ``every`` seconds
    otherwise; nothing when disabled."""

    def __init__(self, out: TextIO | None, *, tty: bool, every: float = 10.0) -> None:
        self.out = out
        self.tty = tty
        self.every = 0.25 if tty else every
        self.last = 0.0
        self.width = 0

    def show(self, stats: Stats, now: datetime | None, live: bool, force: bool = False) -> None:
        if self.out is None:
            return
        moment = time.monotonic()
        if not force and moment - self.last < self.every:
            return
        self.last = moment
        when = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if now else "-"
        phase = "live" if live else "catching up" if now else "starting"
        line = (f"{when} ({phase}) · {stats.messages} sent · {stats.error_count} errors · "
                f"{stats.rate():.0f} msg/s")  # fmt: skip
        if self.tty:
            pad = max(0, self.width - len(line))
            self.out.write("\r" + line + " " * pad)
            self.width = len(line)
        else:
            self.out.write(line + "\n")
        self.out.flush()

    def done(self) -> None:
        if self.out is not None and self.tty and self.width:
            self.out.write("\n")
            self.out.flush()


#: Messages sent together at most while catching up.
BATCH = 500
#: A step is "live" when it is less than this behind the real clock.
LIVE_WINDOW = timedelta(minutes=2)


def run(
    simulator: Simulator,
    transport: Transport,
    clock: Clock,
    *,
    steps: int | None = None,
    duration: float | None = None,
    stop: threading.Event | None = None,
    progress: Progress | None = None,
    api: HttpConnection | None = None,
) -> Stats:
    """Register the fleet, then run steps until ``steps`` are done, ``duration`` real
    seconds have passed or ``stop`` is set. Raises ``TransportError`` (the stats so
    far in its ``stats`` attribute) when the transport fails."""
    stop = stop or threading.Event()
    progress = progress or Progress(None, tty=False)
    stats = Stats(simulated_from=clock.start)
    live = False
    now: datetime | None = None
    try:
        fleet = simulator.setup(clock.start)
        stats.devices = len(fleet)
        for first in range(0, len(fleet), 200):
            stats.registered += transport.register(fleet[first : first + 200])
        end = clock.mono_start + duration if duration is not None else None
        # Devices that take commands keep answering until the very end of the run.
        listening = any(device.commands for device in fleet)
        k = 0
        while not stop.is_set() and (steps is None or k < steps):
            k += 1
            due = clock.due(k)
            if end is not None and due > end:
                while listening and not stop.is_set() and time.monotonic() < end:
                    progress.show(stats, now, live)
                    _commands(simulator, transport, now or clock.start, api, stats)
                    stop.wait(min(0.2, max(0.0, end - time.monotonic())))
                _commands(simulator, transport, now or clock.start, api, stats)
                break
            while not stop.is_set() and time.monotonic() < due:
                progress.show(stats, now, live)
                _commands(simulator, transport, now or clock.start, api, stats)
                stop.wait(min(0.2, max(0.0, due - time.monotonic())))
            if stop.is_set():
                break
            _commands(simulator, transport, now or clock.start, api, stats)
            now = clock.at(k)
            live = clock.lag(k) < LIVE_WINDOW
            pending = list(simulator.step(now, live))
            # Catching up: steps already due go together (fewer, fuller round trips).
            while (not live and not stop.is_set() and len(pending) < BATCH
                   and (steps is None or k < steps)
                   and time.monotonic() >= clock.due(k + 1)
                   and (end is None or clock.due(k + 1) <= end)):  # fmt: skip
                k += 1
                now = clock.at(k)
                live = clock.lag(k) < LIVE_WINDOW
                pending += simulator.step(now, live)
            _dispatch(pending, transport, api, stats)
            stats.steps, stats.simulated_to = k, now
            progress.show(stats, now, live)
    except TransportError as exc:
        exc.stats = stats  # type: ignore[attr-defined]
        raise
    finally:
        simulator.close()
        progress.show(stats, now, live, force=True)
        progress.done()
    return stats


def _commands(
    simulator: Simulator,
    transport: Transport,
    now: datetime,
    api: HttpConnection | None,
    stats: Stats,
) -> None:
    """Hand the commands received so far to the simulator; send its answers at once."""
    answers: list[Message] = []
    while True:
        try:
            incoming = transport.inbox.get_nowait()
        except queue.Empty:
            break
        stats.received[incoming.device.split("-", 1)[0]] += 1
        # A command is real: it is handled when it arrived, never before the
        # simulated present (a run catching up still answers in the present).
        at = max(now, incoming.received)
        answers += simulator.on_command(incoming.device, incoming.content, at)
    if answers:
        _dispatch(answers, transport, api, stats)


def _dispatch(
    messages: list[Message], transport: Transport, api: HttpConnection | None, stats: Stats
) -> None:
    readings = [m for m in messages if isinstance(m, Reading)]
    for first in range(0, len(readings), BATCH):
        chunk = readings[first : first + BATCH]
        for reading, (rsc, pc) in zip(chunk, transport.publish(chunk), strict=True):
            if rsc in (2000, 2001):
                stats.sent[reading.container] += 1
            else:
                if rsc in FORBIDDEN:
                    raise TransportError(f"{reading.device}: {rsc} {_body(pc)} (check --key)")
                stats.error(f"rsc {rsc}", f"{reading.device}/{reading.container}: "
                                          f"{rsc} {_body(pc)}")  # fmt: skip
    for message in messages:
        if isinstance(message, ApiCall):
            _call(message, api, stats)
        elif isinstance(message, Action):
            try:
                message.run()
            except Exception as exc:
                logger.warning("simulated %s failed: %s", message.label, exc)
                stats.error(message.label, f"{message.label}: {exc}")
            else:
                stats.calls[message.label] += 1


def _call(message: ApiCall, api: HttpConnection | None, stats: Stats) -> None:
    if api is None:
        stats.skipped[message.label] += 1
        return
    headers = {"Accept": "application/json", **message.headers}
    body = None
    if message.body is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(message.body).encode()
    status, _, data = api.request(message.method, message.path, body, headers)
    try:
        answer = json.loads(data) if data else None
    except ValueError:
        answer = None
    if status >= 500 or status in (401, 404):
        stats.error(message.label, f"{message.method} {message.path}: HTTP {status}")
    else:
        stats.calls[message.label] += 1
    if message.on_response is not None:
        message.on_response(status, answer)
