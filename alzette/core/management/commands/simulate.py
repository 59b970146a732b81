"""``alzette simulate <name>``: stream a simulated fleet of devices into the platform.

The simulators come from the registry (``ALZETTE_SIMULATORS``, docs/simulators.md);
each is a subcommand with the common options below and its own.
"""

from __future__ import annotations

import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from alzette.core import simulators
from alzette.core.simulators import (
    Clock,
    Environment,
    HttpConnection,
    HttpTransport,
    MqttTransport,
    Progress,
    Stats,
    Transport,
    TransportError,
)

#: How much past an accelerated run with no end replays before going live.
DEFAULT_HISTORY_HOURS = 24.0


class Command(BaseCommand):
    help = "Simulate devices (alzette simulate waste --speed 60): oneM2M over HTTP or MQTT."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="simulator", required=True, metavar="SIMULATOR")
        for name, cls in simulators.registry().items():
            simulator_parser = sub.add_parser(name, help=cls.help)
            _common_arguments(simulator_parser)
            cls.add_arguments(simulator_parser)

    def handle(self, *args: Any, **options: Any) -> None:
        cls = simulators.registry()[options["simulator"]]
        checked = _check(options)
        seed = options["seed"] if options["seed"] is not None else int(time.time()) % 1_000_000
        env = Environment(api_url=checked["api_url"], gate_key=_gate_key(options),
                          badges=_demo_badges)  # fmt: skip
        simulator = cls(options, seed=seed, devices=options["devices"], env=env)
        issued = None
        key = options["key"]
        if not key and checked["mqtt"] is None and not settings.ALZETTE_ONEM2M_OPEN:
            key, issued = _issue_key(cls)
            self.stdout.write(f"The CSE needs a key: issued {issued} for this run.")
        if options["wait"] and checked["api_url"]:
            _wait_for(checked["api_url"], options["wait"])
        transport = _transport(checked, key)
        api = HttpConnection(checked["api_url"]) if checked["api_url"] else None
        clock = _clock(options)
        stop = threading.Event()
        restore = _handle_signals(stop)
        out = None if options["no_progress"] else self.stdout
        tty = bool(out is not None and self.stdout.isatty())
        self.stdout.write(
            f"Simulating {cls.name} from {clock.start:%Y-%m-%d %H:%M} UTC, speed x{clock.speed:g}, "
            f"seed {seed}, over {transport.name} (Ctrl+C stops)"
        )
        try:
            stats = simulators.run(
                simulator, transport, clock, steps=options["steps"],
                duration=options["duration"], stop=stop, progress=Progress(out, tty=tty),
                api=api,
            )  # fmt: skip
        except TransportError as exc:
            self._summary(getattr(exc, "stats", None), env, seed)
            raise CommandError(f"transport failed: {exc}") from exc
        finally:
            restore()
            transport.close()
            if api is not None:
                api.close()
            if issued:
                _revoke_key(issued)
        self._summary(stats, env, seed)

    def _summary(self, stats: Stats | None, env: Environment, seed: int) -> None:
        if stats is None:
            return
        elapsed = time.monotonic() - stats.started
        span = ""
        if stats.simulated_from and stats.simulated_to:
            span = (f"{stats.simulated_from:%Y-%m-%d %H:%M} → {stats.simulated_to:%Y-%m-%d %H:%M} "
                    "UTC ")  # fmt: skip
        self.stdout.write(f"Simulated {span}in {elapsed:.1f} s, {stats.steps} steps (seed {seed})")
        self.stdout.write(f"  devices: {stats.devices} ({stats.registered} newly registered)")
        sent = ", ".join(f"{name} {count}" for name, count in sorted(stats.sent.items()))
        self.stdout.write(f"  contentInstances: {stats.messages} ({sent or 'none'})")
        if stats.received:
            received = ", ".join(f"{n} {c}" for n, c in sorted(stats.received.items()))
            self.stdout.write(f"  commands received: {received}")
        if stats.calls:
            calls = ", ".join(f"{name} {count}" for name, count in sorted(stats.calls.items()))
            self.stdout.write(f"  other calls: {calls}")
        if stats.skipped:
            skipped = ", ".join(f"{n} {c}" for n, c in sorted(stats.skipped.items()))
            self.stdout.write(f"  not sent (no --url for the API): {skipped}")
        if stats.errors:
            errors = ", ".join(f"{n}: {c}" for n, c in sorted(stats.errors.items()))
            self.stdout.write(self.style.WARNING(f"  errors: {errors}"))
            for detail in stats.first_errors:
                self.stdout.write(f"    {detail}")
        for note in env.notes:
            self.stdout.write(f"  note: {note}")


def _common_arguments(parser: CommandParser) -> None:
    where = parser.add_argument_group("where to send")
    where.add_argument(
        "--url",
        help="the platform's base URL: oneM2M over HTTP at <url>/onem2m/, and the other APIs "
        f"(default http://{settings.ALZETTE_HOST}:{settings.ALZETTE_PORT} unless --mqtt)",
    )
    where.add_argument(
        "--mqtt", help="oneM2M over this MQTT broker instead (mqtt://host:1883); --url still "
        "serves the other APIs"
    )  # fmt: skip
    where.add_argument("--key", help="the organisation's oneM2M key (m2m_…) when the CSE is closed")
    where.add_argument("--gate-key", help="a key of the recycling centre's gate (alzg_…)")
    where.add_argument(
        "--listen", metavar="HOST:PORT",
        help="where devices that take commands (lighting) listen for the CSE's notifications "
        "over HTTP, given in their poa (default 127.0.0.1 and a free port)",
    )  # fmt: skip
    where.add_argument(
        "--wait", type=float, default=0, help="wait this many seconds for the server to answer"
    )
    when = parser.add_argument_group("time")
    when.add_argument(
        "--speed", type=float, default=1.0,
        help="simulated seconds per real second (60: a minute a second)",
    )  # fmt: skip
    when.add_argument("--tick", type=float, default=60.0, help="simulated seconds per step (60)")
    when.add_argument("--start", help="simulated start, ISO 8601 in the past (default: computed)")
    when.add_argument(
        "--history", type=float, default=DEFAULT_HISTORY_HOURS,
        help="hours of past an accelerated run without --duration/--steps replays (24)",
    )  # fmt: skip
    end = when.add_mutually_exclusive_group()
    end.add_argument("--duration", type=float, help="stop after this many real seconds")
    end.add_argument("--steps", type=int, help="stop after this many steps")
    what = parser.add_argument_group("what")
    what.add_argument(
        "--devices", type=int, help="how many devices (waste: household bins; lighting: lamps)"
    )
    what.add_argument("--seed", type=int, help="random seed: the same seed, the same run")
    what.add_argument("--no-progress", action="store_true", help="no progress display")


def _check(options: dict[str, Any]) -> dict[str, Any]:
    """Refuse impossible options with a clear message; the endpoints to use."""
    for name, minimum in (("speed", 0), ("tick", 0), ("duration", 0), ("wait", -1)):
        value = options[name]
        if value is not None and not value > minimum:
            raise CommandError(f"--{name} must be greater than {max(minimum, 0)}")
    for name in ("steps", "devices"):
        if options[name] is not None and options[name] < 1:
            raise CommandError(f"--{name} must be at least 1")
    if options["history"] is not None and options["history"] < 0:
        raise CommandError("--history must be 0 or more hours")
    if options["start"]:
        start = _start(options["start"])
        if start > datetime.now(UTC):
            raise CommandError(
                "--start must not be in the future: the platform quarantines observations "
                "from the future"
            )
    mqtt = options["mqtt"]
    url = options["url"]
    if url is None and mqtt is None:
        url = f"http://{settings.ALZETTE_HOST}:{settings.ALZETTE_PORT}"
    if url is not None and not url.startswith(("http://", "https://")):
        raise CommandError(f"--url must be an http(s) URL, not {url!r}")
    if mqtt is not None and not mqtt.startswith(("mqtt://", "mqtts://")):
        raise CommandError(f"--mqtt must be an mqtt(s) URL, not {mqtt!r}")
    listen = None
    if options.get("listen"):
        host, _, port = options["listen"].rpartition(":")
        if not host or not port.isdigit() or int(port) > 65535:
            raise CommandError(f"--listen must be HOST:PORT, not {options['listen']!r}")
        listen = (host.strip("[]"), int(port))
    return {"api_url": url.rstrip("/") if url else None, "mqtt": mqtt, "listen": listen}


def _start(text: str) -> datetime:
    parsed = parse_datetime(text)
    if parsed is None:
        raise CommandError(f"--start: not an ISO 8601 date and time: {text!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _clock(options: dict[str, Any]) -> Clock:
    speed, tick = options["speed"], timedelta(seconds=options["tick"])
    now = datetime.now(UTC)
    if options["start"]:
        start = _start(options["start"]).astimezone(UTC)
    else:
        span = None
        if options["steps"]:
            span = tick * options["steps"]
        elif options["duration"]:
            span = timedelta(seconds=options["duration"] * speed)
        start = Clock.start_for(now, speed, span, timedelta(hours=options["history"]))
    # A whole number of ticks since the epoch: "t" in whole seconds, and two runs
    # with the same seed started in the same tick are the same run.
    if not options["start"]:
        start -= timedelta(seconds=start.timestamp() % tick.total_seconds())
    return Clock(start=start.replace(microsecond=0), speed=speed, tick=tick)


def _transport(checked: dict[str, Any], key: str | None) -> Transport:
    identity = {"cse_rn": settings.ALZETTE_ONEM2M_CSE_RN, "cse_id": settings.ALZETTE_ONEM2M_CSI,
                "key": key}  # fmt: skip
    try:
        if checked["mqtt"]:
            return MqttTransport(checked["mqtt"], **identity)
        return HttpTransport(checked["api_url"], listen=checked.get("listen"), **identity)
    except (ValueError, TransportError) as exc:
        raise CommandError(str(exc)) from exc


def _wait_for(url: str, seconds: float) -> None:
    """Poll the CSEBase until the server answers (``alzette demo`` starts us beside it)."""
    connection = HttpConnection(url, timeout=5)
    connection.RETRIES = 1
    deadline = time.monotonic() + seconds
    headers = {"X-M2M-Origin": "Csimulator", "X-M2M-RI": "wait", "X-M2M-RVI": "3"}
    try:
        while True:
            try:
                connection.request(
                    "GET", f"/onem2m/{settings.ALZETTE_ONEM2M_CSE_RN}", None, headers
                )
                return
            except TransportError:
                if time.monotonic() > deadline:
                    raise CommandError(f"{url} did not answer within {seconds:g} s") from None
                time.sleep(0.5)
    finally:
        connection.close()


def _handle_signals(stop: threading.Event) -> Any:
    """Ctrl+C and SIGTERM end the run after the current step (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for signum in previous:
        signal.signal(signum, lambda *_: stop.set())

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    return restore


def _issue_key(cls: type[simulators.Simulator]) -> tuple[str, str]:
    """A oneM2M key for this run, on the same databases; revoked when it ends."""
    from alzette.territory.onem2m import security

    patterns = list(cls.originators) or ["C"]
    try:
        credential, key = security.issue(f"Simulator ({cls.name})", patterns)
    except Exception as exc:
        raise CommandError(f"the CSE needs a key and none could be issued here ({exc}): "
                           "pass --key m2m_…") from exc  # fmt: skip
    return key, credential.prefix


def _revoke_key(prefix: str) -> None:
    from django.utils import timezone

    from alzette.territory.onem2m.models import Credential

    Credential.objects.filter(prefix=prefix, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def _gate_key(options: dict[str, Any]) -> Any:
    """The gate key: --gate-key, or one issued on the personal repository (same databases)."""
    given = options.get("gate_key")
    issued: dict[str, str | None] = {}

    def key(centre: str) -> str | None:
        if given:
            return given
        if centre not in issued:
            try:
                from alzette.personal.households.services import issue_gate_key

                issued[centre] = issue_gate_key(centre)
            except Exception:
                issued[centre] = None
        return issued[centre]

    return key


def _demo_badges(centre: str) -> list[str]:
    """Badges of the demo's households, when the households app publishes them."""
    try:
        from alzette.personal.households import demo
    except ImportError:
        return []
    badges = getattr(demo, "DEMO_BADGES", None)
    if callable(badges):
        badges = badges()
    single = getattr(demo, "DEMO_BADGE", None)
    found = [*(badges or []), *([single] if single else [])]
    return list(dict.fromkeys(b for b in found if isinstance(b, str)))
