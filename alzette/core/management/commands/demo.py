from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from alzette.core.management.commands.serve import run_server
from alzette.core.repositories import DATABASE_ALIASES, LEDGER
from alzette.ledger import services as ledger
from alzette.ledger.models import LedgerEntry
from alzette.personal.accounts.services import ensure_demo_accounts, sync_organisational_units
from alzette.personal.procedures.demo import ensure_demo_procedures
from alzette.personal.store.demo import ensure_demo_catalogue


class Command(BaseCommand):
    help = "Prepare both repositories with demo data and serve on http://127.0.0.1:8000."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.ALZETTE_HOST)
        parser.add_argument("--port", type=int, default=settings.ALZETTE_PORT)
        parser.add_argument("--no-serve", action="store_true", help="Prepare only; do not serve.")
        parser.add_argument(
            "--no-worker", action="store_true", help="Serve without the background worker."
        )
        parser.add_argument(
            "--no-simulate",
            action="store_true",
            help="Serve without the devices' simulators (docs/simulators.md).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.ALZETTE_MODE == "production":
            raise CommandError("alzette demo creates demo accounts: refused in production mode.")
        steps = [
            ("Compiling translations", lambda: call_command("compiletranslations", verbosity=0)),
            *[
                (f"Migrating the {alias} database", self._migrate(alias))
                for alias in DATABASE_ALIASES
            ],
            ("Loading the territory's communes", lambda: call_command("loadterritory")),
            ("Recording the publication in the ledger", self._ledger),
            ("Creating demo accounts", self._accounts),
            ("Filling the service store", self._store),
            ("Publishing the demo procedures", self._procedures),
            ("Installing the waste equipment and the collection fleet (NGSI-LD)", self._waste),
            ("Publishing the open-data catalogue", self._catalogue),
            ("Opening the developer portal and its sandbox", self._partners),
            ("Installing the street lighting (NGSI-LD) and its policies", self._lighting),
            ("Installing the water network and its meters", self._water),
            ("Registering households, their bins and their lifts", self._households),
            ("Allocating water meters to households", self._homewater),
        ]
        for number, (label, step) in enumerate(steps, start=1):
            self.stdout.write(self.style.MIGRATE_HEADING(f"[{number}/{len(steps)}] {label}…"))
            step()
        if not options["no_serve"]:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Alzette is ready: http://{options['host']}:{options['port']}/"
                    "  (Ctrl+C to stop)"
                )
            )
            self.stdout.write(
                f"  oneM2M CSE: http://{options['host']}:{options['port']}/onem2m/"
                f"{settings.ALZETTE_ONEM2M_CSE_RN} (docs/onem2m.md)"
            )
            self.stdout.write(
                f"  NGSI-LD: http://{options['host']}:{options['port']}/ngsi-ld/v1/"
                "entities?type=WasteContainer (docs/ngsi-ld.md)"
            )
            children = [] if options["no_worker"] else [_start_worker()]
            if settings.ALZETTE_ONEM2M_MQTT_URL:
                # Devices may speak MQTT too when a broker is configured.
                children.append(_start_child("onem2m", "mqtt"))
            if not options["no_simulate"]:
                children += _start_simulators(options["host"], options["port"])
            # uvicorn hands SIGTERM back once it has stopped serving: make it an
            # exit, so that the children below are stopped rather than orphaned.
            signal.signal(signal.SIGTERM, _exit_on_signal)
            try:
                run_server(options["host"], options["port"], workers=1)
            finally:
                for child in children:
                    _stop(child)

    def _migrate(self, alias: str) -> Any:
        return lambda: call_command("migrate", database=alias, interactive=False, verbosity=1)

    def _ledger(self) -> None:
        """Give the demo's public ledger a first entry: the published reference data."""
        reference = "dataset:communes-ccphva"
        if not LedgerEntry.objects.using(LEDGER).filter(object=reference).exists():
            ledger.record(
                "dataset.published",
                "system:demo",
                reference,
                {"dataset": "communes-ccphva", "units": 9},
            )
        head = ledger.latest_tree_head()
        self.stdout.write(
            f"  Ledger size {head.tree_size if head else 0}, "
            f"key {ledger.signing_key().key_id[:16]}…"
        )

    def _procedures(self) -> None:
        published = ensure_demo_procedures()
        self.stdout.write(f"  {published} procedures open online")

    def _waste(self) -> None:
        from alzette.territory.waste.demo import ensure_demo_waste
        from alzette.territory.waste.rounds.demo import ensure_demo_fleet

        counts = ensure_demo_waste()
        ensure_demo_fleet()
        self.stdout.write(
            "  {bins} bins, {drop_points} drop points ({columns} columns), {skips} skips "
            "at the recycling centre; fill levels mapped; 4 collection trucks".format(**counts)
        )

    def _households(self) -> None:
        from alzette.bridge.waste import ensure_demo_dataset
        from alzette.personal.households.demo import ensure_demo_households

        counts = ensure_demo_households()
        ensure_demo_dataset()
        self.stdout.write(
            "  {households} households ({lifts} lifts, {cards} recycling-centre cards); "
            "bin lifts and estimated bill at /waste/, agents' hypervision at "
            "/hypervision/".format(**counts)
        )

    def _lighting(self) -> None:
        from alzette.territory.lighting.demo import ensure_demo_lighting

        counts = ensure_demo_lighting()
        self.stdout.write(
            "  "
            + ", ".join(f"{value} {name}" for name, value in counts.items())
            + "; agents' pages at /hypervision/lighting/"
        )

    def _water(self) -> None:
        from alzette.territory.water.demo import ensure_demo_water

        counts = ensure_demo_water()
        self.stdout.write(
            "  {districts} water districts ({entities} entities), {meters} household "
            "meters; agents' pages at /hypervision/water/".format(**counts)
        )

    def _homewater(self) -> None:
        from alzette.bridge.water import ensure_demo_dataset
        from alzette.personal.homewater.demo import ensure_demo_homewater

        counts = ensure_demo_homewater()
        ensure_demo_dataset()
        self.stdout.write(
            "  {meters} household water meters ({readings} readings, {leaks} leak); "
            "consumption at /water/".format(**counts)
        )

    def _catalogue(self) -> None:
        from alzette.territory.catalogue.demo import ensure_demo_datasets

        count = ensure_demo_datasets()
        self.stdout.write(
            f"  {count} open datasets (/api/v1/territory/datasets, docs/open-data.md)"
        )

    def _partners(self) -> None:
        from alzette.personal.developers.demo import link_demo_partner
        from alzette.territory.partners.demo import ensure_demo_partners

        created = ensure_demo_partners()
        link_demo_partner()
        self.stdout.write(
            f"  Sandbox tenant ready ({created} entities created); developer portal at "
            "/developers/ (docs/partners.md)"
        )

    def _store(self) -> None:
        published = ensure_demo_catalogue()
        self.stdout.write(f"  {published} services published in the store")

    def _accounts(self) -> None:
        units = sync_organisational_units()
        self.stdout.write(f"  {units} organisational units (EPCI, communes and their services)")
        accounts = ensure_demo_accounts()
        email_width = max(len(account.email) for account in accounts)
        password_width = max(len(account.password) for account in accounts)
        self.stdout.write("  Demo accounts (role, e-mail, password, persona):")
        for account in accounts:
            self.stdout.write(
                f"    {account.role:<14} {account.email:<{email_width}}  "
                f"{account.password:<{password_width}}  {account.description}"
            )


def _start_worker() -> subprocess.Popen:
    """The worker as a child process: the demo's scheduled work (deadlines, webhooks...)
    runs without a second terminal. The consumer needs its own main thread (signals)."""
    return _start_child("run_huey", "-w", "1")


#: What each demo simulator replays before going live, and how fast: the embedded
#: SQLite database takes a few dozen device messages a second, and the streetlights
#: report every 15 minutes at night, so they replay less.
DEMO_SIMULATORS = (("waste", "360", "12"), ("lighting", "120", "1"), ("water", "360", "12"))


def _start_simulators(host: str, port: int) -> list[subprocess.Popen]:
    """The devices, alive: the recent past replayed quickly, then real time."""
    host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - where to connect
    url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    return [
        _start_child(
            "simulate",
            name,
            "--url",
            url,
            "--speed",
            speed,
            "--history",
            history,
            "--wait",
            "60",
            "--no-progress",
        )
        for name, speed, history in DEMO_SIMULATORS
    ]


def _stop(child: subprocess.Popen) -> None:
    """SIGINT lets a running job finish; a child that ignores it (started from a
    shell's background job, which ignores SIGINT) is terminated after a while."""
    child.send_signal(signal.SIGINT)
    try:
        child.wait(timeout=20)
    except subprocess.TimeoutExpired:
        child.terminate()
        child.wait(timeout=10)


def _exit_on_signal(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _start_child(*command: str) -> subprocess.Popen:
    env = {**os.environ, "ALZETTE_MODE": settings.ALZETTE_MODE}
    # Our own console script with fixed arguments: nothing untrusted reaches it.
    return subprocess.Popen([sys.executable, "-m", "alzette.cli", *command], env=env)  # noqa: S603
