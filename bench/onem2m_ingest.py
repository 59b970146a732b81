"""oneM2M ingest: contentInstance creation on Alzette's IN-CSE, compared with the ACME CSE.

    python bench/onem2m_ingest.py                     # 2,000 requests per run
    python bench/onem2m_ingest.py --requests 300      # a quick look
    python bench/onem2m_ingest.py --skip-acme --skip-mqtt

Starts Alzette (`alzette serve`, development mode, ALZETTE_ONEM2M_DELIVERY=worker)
on fresh PostgreSQL databases, and the ACME CSE (PyPI package `acmecse`, a dev
tool installed into the venv on demand, never a dependency) headless with its
in-memory database, each on a free loopback port, one after the other. On each
CSE it registers an AE, then times the creation of contentInstances, each run in
a fresh container (mni 1000) after a warm-up: over HTTP (TS-0009) by 1 client
and by 32 concurrent clients (keep-alive connections, one per thread), and over
MQTT (TS-0010) against Alzette when its binding (`alzette onem2m mqtt`) exists,
by one client publishing without waiting for each answer (at most --mqtt-window
requests outstanding). Every response must be a 201 (2001); the others, and
requests never answered, are counted as errors.

Targets: Alzette's HTTP throughput at least 5 times ACME's; MQTT at least 2,000
contentInstances/s on the 2-core reference machine. Printed, never asserted.
Databases and processes are removed on exit, Ctrl-C included.

Needs PostgreSQL with trust authentication (BENCH_POSTGRES_URL, default
postgres://postgres@127.0.0.1:5432) and, for MQTT, a broker (BENCH_MQTT_URL,
default mqtt://127.0.0.1:1883). ALZETTE_WORKERS, ALZETTE_DB_CONN_MAX_AGE and
ALZETTE_REDIS_URL pass through to Alzette; its other settings are the bench's own.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
MQTT_URL = os.environ.get("BENCH_MQTT_URL", "mqtt://127.0.0.1:1883")
ALIASES = ("personal", "territory", "ledger")
#: Settings of the caller's environment passed on to Alzette (sizing knobs); any
#: other ALZETTE_* variable is dropped so that the bench always measures the same set-up.
TUNING = (
    "ALZETTE_WORKERS",
    "ALZETTE_DB_CONN_MAX_AGE",
    "ALZETTE_DB_POOL_SIZE",
    "ALZETTE_REDIS_URL",
)
INSTANCE = json.dumps({"m2m:cin": {"con": "21.5", "cnf": "text/plain:0"}}).encode()
_request_ids = itertools.count()


# --- Figures ---------------------------------------------------------------------


@dataclass
class Figures:
    """One run: successes, failures (wrong status or no answer), wall time, latencies."""

    cse: str
    binding: str
    clients: str
    ok: int = 0
    errors: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)  # what the errors were

    def fail(self, reason: str) -> None:
        self.errors += 1
        self.failures[reason] += 1

    @property
    def throughput(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    def percentile(self, share: float) -> float:
        """Latency in ms below which ``share`` of the answered requests finished."""
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    def merge(self, other: Figures) -> None:
        self.ok += other.ok
        self.errors += other.errors
        self.latencies += other.latencies
        self.failures += other.failures

    def row(self) -> str:
        return (
            f"{self.cse:<8} {self.binding:<5} {self.clients:>10} {self.throughput:>12,.0f} "
            f"{self.percentile(0.50):>8.1f} {self.percentile(0.95):>8.1f} {self.errors:>7}"
        )


HEADER = (
    f"{'CSE':<8} {'via':<5} {'clients':>10} {'instances/s':>12} "
    f"{'p50 ms':>8} {'p95 ms':>8} {'errors':>7}"
)


# --- Processes and databases ------------------------------------------------------


def free_port() -> int:
    """A loopback port nobody listens on (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def process(
    command: list[str], env: dict[str, str], log: Path, cwd: Path = ROOT
) -> Iterator[subprocess.Popen]:
    """Run ``command`` in its own process group (uvicorn forks workers), output to ``log``;
    stop the whole group on exit, whatever happened meanwhile."""
    with log.open("ab") as output:
        child = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    try:
        yield child
    finally:
        _stop(child)


def _stop(child: subprocess.Popen) -> None:
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, sig)
        try:
            child.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def tail(log: Path, lines: int = 15) -> str:
    """The end of a log, for error messages: the temporary folder is gone afterwards."""
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def databases() -> Iterator[dict[str, str]]:
    """Three fresh PostgreSQL databases, one per Alzette repository; dropped on exit."""
    import psycopg

    names = {alias: f"alzette_bench_{os.getpid()}_{alias}" for alias in ALIASES}
    with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as admin:
        try:
            for name in names.values():
                admin.execute(f'CREATE DATABASE "{name}"')
            yield {alias: f"{POSTGRES_URL}/{name}" for alias, name in names.items()}
        finally:
            for name in names.values():
                # FORCE: a worker killed mid-request may leave a backend connected.
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wait_until_ready(port: int, path: str, child: subprocess.Popen, log: Path) -> None:
    """Poll the CSEBase until it answers 200 (start-up takes seconds, not a fixed time)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"{child.args} exited with {child.returncode}:\n{tail(log)}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            status, _ = request(http.client.HTTPConnection("127.0.0.1", port, timeout=5), path)
            if status == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"nothing answers on port {port} after 90 s:\n{tail(log)}")


# --- oneM2M over HTTP ------------------------------------------------------------------


def request(
    conn: http.client.HTTPConnection,
    path: str,
    origin: str = "CAdmin",
    ty: int | None = None,
    body: bytes | None = None,
) -> tuple[int, bytes]:
    """One oneM2M request (TS-0009 headers): POST with ``ty`` creates, GET otherwise."""
    headers = {
        "X-M2M-Origin": origin,
        "X-M2M-RI": f"bench-{next(_request_ids)}",
        "X-M2M-RVI": "3",
        "Accept": "application/json",
    }
    if ty is not None:
        headers["Content-Type"] = f"application/json;ty={ty}"
    conn.request("POST" if ty is not None else "GET", path, body=body, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


@dataclass
class Cse:
    """A CSE under test and, once ``register`` ran, the AE and the container written to."""

    name: str
    port: int
    base: str  # HTTP path of the CSEBase
    origin: str = ""
    container: str = ""

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def register(self) -> None:
        """Register the AE "bench" (origin "C": the CSE assigns its AE-ID)."""
        ae = {"m2m:ae": {"rn": "bench", "api": "Nbench", "rr": False, "srv": ["3"]}}
        status, body = request(self.connection(), self.base, "C", 2, json.dumps(ae).encode())
        if status != 201:
            raise RuntimeError(f"{self.name}: AE registration answered {status}: {body!r}")
        self.origin = json.loads(body)["m2m:ae"]["aei"]

    def new_container(self, name: str) -> None:
        """A fresh container per run, so that no run starts with the instances of the
        one before (a full container, mni 1000, deletes its oldest on every creation)."""
        cnt = json.dumps({"m2m:cnt": {"rn": name, "mni": 1000}}).encode()
        status, body = request(self.connection(), f"{self.base}/bench", self.origin, 3, cnt)
        if status != 201:
            raise RuntimeError(f"{self.name}: container creation answered {status}: {body!r}")
        self.container = f"{self.base}/bench/{name}"


def _client(cse: Cse, count: int, start: threading.Barrier, figures: Figures) -> None:
    """Create ``count`` instances on one keep-alive connection (http.client reopens it
    when the server closes it, as ACME's default server does after every response)."""
    conn = cse.connection()
    with contextlib.suppress(OSError):
        conn.connect()  # connect before the clock starts
    start.wait()
    for _ in range(count):
        began = time.perf_counter()
        try:
            status, _ = request(conn, cse.container, cse.origin, 4, INSTANCE)
        except (OSError, http.client.HTTPException) as exc:
            figures.fail(exc.__class__.__name__)
            conn.close()
            continue
        figures.latencies.append(time.perf_counter() - began)
        if status == 201:
            figures.ok += 1
        else:
            figures.fail(f"HTTP {status}")
    conn.close()


def http_run(cse: Cse, clients: int, requests: int) -> Figures:
    """``requests`` creations split over ``clients`` threads started together; each
    thread keeps its own figures (no lock on the hot path), merged at the end."""
    start = threading.Barrier(clients + 1)
    shares = [requests // clients + (n < requests % clients) for n in range(clients)]
    parts = [Figures(cse.name, "HTTP", "1") for _ in shares]
    threads = [
        # Daemons: Ctrl-C must not wait for the clients' 30 s timeouts.
        threading.Thread(target=_client, args=(cse, share, start, part), daemon=True)
        for share, part in zip(shares, parts, strict=True)
    ]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    figures = Figures(cse.name, "HTTP", str(clients), elapsed=time.perf_counter() - began)
    for part in parts:
        figures.merge(part)
    return figures


def measure_http(cse: Cse, args: argparse.Namespace, results: list[Figures]) -> None:
    for clients in (1, args.clients):
        cse.new_container(f"http{clients}")
        http_run(cse, clients, args.warmup)  # first requests pay imports and connections
        results.append(http_run(cse, clients, args.requests))
        progress(results[-1].row())


def logs_folder(folder: Path, args: argparse.Namespace) -> Path:
    """Where the servers write their output: kept with --logs, else gone with the run."""
    target = Path(args.logs) if args.logs else folder
    target.mkdir(parents=True, exist_ok=True)
    return target


def progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# --- Alzette -------------------------------------------------------------------------


def alzette_env(data_dir: Path, urls: dict[str, str]) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("ALZETTE_") or key in TUNING
    }
    env.update(
        ALZETTE_MODE="development",  # oneM2M open to any originator, no keys
        ALZETTE_DEBUG="false",  # as production runs: DEBUG keeps every query in memory
        ALZETTE_LOG_LEVEL="WARNING",
        ALZETTE_DATA_DIR=str(data_dir),
        ALZETTE_ONEM2M_DELIVERY="worker",  # notifications left to the worker, not a thread
        **{f"ALZETTE_{alias.upper()}_DATABASE_URL": url for alias, url in urls.items()},
    )
    return env


def alzette(*args: str) -> list[str]:
    return [sys.executable, "-m", "alzette.cli", *args]


def migrate(env: dict[str, str]) -> None:
    for alias in ALIASES:
        done = subprocess.run(
            alzette("migrate", "--database", alias, "--verbosity", "0"),
            env=env, cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"migrate --database {alias} failed:\n{done.stderr[-2000:]}")


def bench_alzette(folder: Path, args: argparse.Namespace, results: list[Figures]) -> None:
    with databases() as urls:
        env = alzette_env(folder / "alzette", urls)
        migrate(env)
        port = free_port()
        serve = alzette("serve", "--host", "127.0.0.1", "--port", str(port))
        serve += ["--skip-collectstatic"] + (
            ["--workers", str(args.workers)] if args.workers else []
        )
        log = logs_folder(folder, args) / "alzette.log"
        with process(serve, env, log) as server:
            wait_until_ready(port, "/onem2m/alzette", server, log)
            cse = Cse("Alzette", port, "/onem2m/alzette")
            cse.register()
            measure_http(cse, args, results)
            if not args.skip_mqtt:
                results += measure_mqtt(cse, env, folder, args)


# --- ACME ------------------------------------------------------------------------------

#: The [basic.config] values ACME's on-boarding dialog would ask for, and everything
#: interactive or chatty off (console, text UI, web UI, logs, statistics, script polling).
ACME_INI = """\
[basic.config]
cseType=IN
cseID=id-in
cseName=cse-in
adminID=CAdmin
networkInterface=127.0.0.1
cseHost=127.0.0.1
httpPort={port}
databaseType=memory
logLevel=off
consoleType=simple

[http.wsgi]
enable={wsgi}

[console]
headless=true

[textui]
enable=false
startWithTUI=false

[webui]
enable=false

[logging]
enableFileLogging=false
enableScreenLogging=false

[cse.statistics]
enable=false

[scripting]
fileMonitoringInterval=0
"""


def ensure_acme() -> None:
    """Install acmecse into this venv when missing: a bench-only tool, not a dependency."""
    import importlib.util

    if importlib.util.find_spec("acmecse") is None:
        progress("installing acmecse into the venv (bench only)...")
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "acmecse"], check=True)


def bench_acme(folder: Path, args: argparse.Namespace, results: list[Figures]) -> None:
    ensure_acme()
    home = folder / "acme"
    home.mkdir()
    port = free_port()
    wsgi = str(args.acme_server == "wsgi").lower()
    (home / "acme.ini").write_text(ACME_INI.format(port=port, wsgi=wsgi))
    # ACME takes the configuration's file name only and looks it up in its base directory.
    command = [sys.executable, "-m", "acmecse", "--config", "acme.ini"]
    command += ["--base-directory", str(home), "--headless"]
    log = logs_folder(folder, args) / "acme.log"
    with process(command, dict(os.environ), log, cwd=home) as server:
        wait_until_ready(port, "/cse-in", server, log)
        cse = Cse("ACME", port, "/cse-in")
        cse.register()
        measure_http(cse, args, results)


# --- oneM2M over MQTT (Alzette only) -------------------------------------------------------


def mqtt_binding_available(env: dict[str, str]) -> bool:
    done = subprocess.run(alzette("help", "onem2m"), env=env, cwd=ROOT, capture_output=True)
    return done.returncode == 0


def broker_address() -> tuple[str, int] | None:
    """The broker's host and port if something listens there, else None."""
    from urllib.parse import urlsplit

    broker = urlsplit(MQTT_URL)
    address = (broker.hostname or "127.0.0.1", broker.port or 1883)
    try:
        socket.create_connection(address, timeout=2).close()
    except OSError:
        return None
    return address


class Responses:
    """Collects response primitives on the client's network thread; the window caps
    the requests awaiting an answer (a broker queues a bounded number per subscriber,
    Mosquitto 1,000 by default, and drops the rest)."""

    def __init__(self) -> None:
        self.sent: dict[str, float] = {}
        self.figures = Figures("Alzette", "MQTT", "1")
        self.last = 0.0
        self.window = threading.Semaphore()

    def expect(self, figures: Figures, window: int) -> None:
        self.sent.clear()
        self.figures = figures
        self.window = threading.Semaphore(window)
        self.last = 0.0

    def on_message(self, client: object, userdata: object, message: object) -> None:
        now = time.perf_counter()
        try:
            answer = json.loads(message.payload)
        except ValueError:  # not ours to judge; an exception here would stop paho's loop
            return
        began = self.sent.pop(answer.get("rqi"), None)
        if began is None:  # a late answer from an earlier round
            return
        self.window.release()
        self.figures.latencies.append(now - began)
        if str(answer.get("rsc")) == "2001":
            self.figures.ok += 1
        else:
            self.figures.fail(f"rsc {answer.get('rsc')}")
        self.last = now


@dataclass
class MqttClient:
    """One MQTT client speaking for the AE: requests out, responses in."""

    cse: Cse
    client: object
    responses: Responses
    topic: str

    def primitive(self, rqi: str) -> bytes:
        to = self.cse.container.removeprefix("/onem2m/")  # CSE-relative: alzette/bench/mqtt
        pc = {"m2m:cin": {"con": "21.5"}}
        primitive = {"op": 1, "to": to, "fr": self.cse.origin, "rqi": rqi, "rvi": "3"}
        return json.dumps({**primitive, "ty": 4, "pc": pc}).encode()

    def round(self, count: int, window: int, timeout: float) -> Figures:
        """Publish ``count`` requests as fast as the window lets (pipelined, no waiting
        for each answer), then wait for the last answers."""
        figures = Figures("Alzette", "MQTT", f"1, {window} out")
        self.responses.expect(figures, window)
        began = time.perf_counter()
        sent = self._publish(count, timeout)
        deadline = time.monotonic() + timeout
        while self.responses.sent and time.monotonic() < deadline:
            time.sleep(0.01)  # the clock stops at the last answer, not here
        for _ in range(len(self.responses.sent) + count - sent):
            figures.fail("no answer")
        figures.elapsed = (self.responses.last or time.perf_counter()) - began
        return figures

    def _publish(self, count: int, timeout: float) -> int:
        """Publish up to ``count`` requests; fewer if the CSE stops answering."""
        for sent in range(count):
            if not self.responses.window.acquire(timeout=timeout):
                return sent
            rqi = uuid.uuid4().hex
            self.responses.sent[rqi] = time.perf_counter()
            self.client.publish(self.topic, self.primitive(rqi), qos=1)
        return count

    def wait_for_binding(self, seconds: float = 30) -> bool:
        """The binding subscribes a moment after it starts: ask until it answers."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.round(1, 1, 1.0).ok:
                return True
        return False


@contextlib.contextmanager
def mqtt_client(cse: Cse, broker: tuple[str, int]) -> Iterator[MqttClient]:
    from paho.mqtt import client as mqtt

    responses = Responses()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-{uuid.uuid4().hex}")
    client.max_inflight_messages_set(0)  # no cap: the requests are pipelined
    client.on_message = responses.on_message
    subscribed = threading.Event()
    client.on_subscribe = lambda *_: subscribed.set()
    client.connect(*broker)
    client.loop_start()
    originator = cse.origin.lstrip("/").replace("/", ":")  # TS-0010 topic form
    try:
        client.subscribe(f"/oneM2M/resp/{originator}/id-alzette/json", qos=1)
        if not subscribed.wait(10):  # answers published before the SUBACK would be lost
            raise RuntimeError(f"the broker at {MQTT_URL} did not acknowledge the subscription")
        yield MqttClient(cse, client, responses, f"/oneM2M/req/{originator}/id-alzette/json")
    finally:
        client.disconnect()
        client.loop_stop()


def measure_mqtt(
    cse: Cse, env: dict[str, str], folder: Path, args: argparse.Namespace
) -> list[Figures]:
    if not mqtt_binding_available(env):
        print("MQTT: skipped (binding not available)", flush=True)
        return []
    if (broker := broker_address()) is None:
        print(f"MQTT: skipped (no broker at {MQTT_URL})", flush=True)
        return []
    binding_env = {**env, "ALZETTE_ONEM2M_MQTT_URL": MQTT_URL}
    logs = [logs_folder(folder, args) / f"mqtt-{n}.log" for n in range(args.mqtt_bindings)]
    with contextlib.ExitStack() as stack:
        # Several binding processes share the request subscription ($share/...).
        bindings = [stack.enter_context(process(alzette("onem2m", "mqtt"), binding_env, log))
                    for log in logs]  # fmt: skip
        cse.new_container("mqtt")
        with mqtt_client(cse, broker) as client:
            if not client.wait_for_binding():
                raise RuntimeError(f"the MQTT binding never answered:\n{tail(logs[0])}")
            client.round(args.warmup, args.mqtt_window, 60)
            figures = client.round(args.requests, args.mqtt_window, 60)
        for binding, log in zip(bindings, logs, strict=True):
            if binding.poll() is not None:
                progress(f"an MQTT binding exited with {binding.returncode}:\n{tail(log)}")
    progress(figures.row())
    return [figures]


# --- Report ------------------------------------------------------------------------------


def report(results: list[Figures], args: argparse.Namespace) -> None:
    workers = args.workers or os.environ.get("ALZETTE_WORKERS") or os.cpu_count()
    print(
        f"\noneM2M contentInstance creation, {args.requests:,} requests per run, "
        f"{os.cpu_count()} CPU core(s); Alzette: {workers} worker(s), "
        f"{args.mqtt_bindings} MQTT binding process(es); ACME: {args.acme_server} server"
    )
    print(HEADER)
    for figures in results:
        print(figures.row())
    for figures in results:
        if figures.failures:
            reasons = ", ".join(f"{n} x {reason}" for reason, n in figures.failures.most_common())
            print(f"  errors, {figures.cse} {figures.binding} {figures.clients}: {reasons}")
    http = {(f.cse, f.clients): f for f in results if f.binding == "HTTP"}
    for clients in ("1", str(args.clients)):
        ours, theirs = http.get(("Alzette", clients)), http.get(("ACME", clients))
        if ours and theirs and theirs.throughput:
            ratio = ours.throughput / theirs.throughput
            verdict = "met" if ratio >= 5 else "not met"
            print(
                f"HTTP, {clients} client(s): Alzette/ACME = {ratio:.2f}x (target >= 5x: {verdict})"
            )
    mqtt = [f for f in results if f.binding == "MQTT"]
    if mqtt:
        verdict = "met" if mqtt[0].throughput >= 2000 else "not met"
        print(f"MQTT: {mqtt[0].throughput:,.0f} instances/s (target >= 2,000/s: {verdict})")
    else:
        print("MQTT: not measured (target >= 2,000/s)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="per run (default 2000)")
    parser.add_argument("--warmup", type=int, default=200, help="before each run (default 200)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent HTTP clients")
    parser.add_argument("--workers", type=int, default=0, help="Alzette workers (ALZETTE_WORKERS)")
    parser.add_argument(
        "--acme-server", choices=("default", "wsgi"), default="default",
        help="ACME's HTTP server: its default (Werkzeug) or its WSGI one (waitress)",
    )  # fmt: skip
    parser.add_argument(
        "--mqtt-bindings", type=int, default=1, help="`alzette onem2m mqtt` processes (default 1)"
    )
    parser.add_argument(
        "--mqtt-window", type=int, default=500, help="MQTT requests awaiting an answer (500)"
    )
    parser.add_argument("--logs", help="keep the servers' output in this folder")
    parser.add_argument("--skip-acme", action="store_true")
    parser.add_argument("--skip-mqtt", action="store_true")
    return parser.parse_args()


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so that SIGTERM runs the same clean-up as Ctrl-C


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, _interrupted)
    # Restored explicitly: a shell starting the bench in the background ignores SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    results: list[Figures] = []
    progress(HEADER)
    try:
        with tempfile.TemporaryDirectory(prefix="alzette-bench-") as folder:
            bench_alzette(Path(folder), args, results)
            if not args.skip_acme:
                bench_acme(Path(folder), args, results)
    except KeyboardInterrupt:
        report(results, args)
        sys.exit("interrupted; processes stopped and databases dropped")
    except Exception:
        # The figures measured before the failure are still worth printing.
        report(results, args)
        raise
    report(results, args)


if __name__ == "__main__":
    main()
