from __future__ import annotations

from typing import Any

import uvicorn
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


def run_server(host: str, port: int, workers: int) -> None:
    """Serve the ASGI application with uvicorn (several worker processes in production)."""
    uvicorn.run(
        "alzette.conf.asgi:application",
        host=host,
        port=port,
        workers=workers,
        lifespan="off",  # Django's ASGI handler does not implement lifespan events
        proxy_headers=True,
        forwarded_allow_ips=settings.ALZETTE_FORWARDED_ALLOW_IPS,
        log_config=None,  # Django's LOGGING already configured JSON logs
        server_header=False,
    )


class Command(BaseCommand):
    help = "Serve Alzette with the production ASGI server (uvicorn)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.ALZETTE_HOST)
        parser.add_argument("--port", type=int, default=settings.ALZETTE_PORT)
        parser.add_argument(
            "--workers",
            type=int,
            default=settings.ALZETTE_WORKERS,
            help="Worker processes (ALZETTE_WORKERS; default: CPU count).",
        )
        parser.add_argument("--skip-collectstatic", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        # Catalogues are compiled from the shipped .po files (a no-op when up to date),
        # so an installed package never serves untranslated pages.
        call_command("compiletranslations", verbosity=0)
        if not options["skip_collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write(
            f"Serving on http://{options['host']}:{options['port']} "
            f"with {options['workers']} worker(s)"
        )
        run_server(options["host"], options["port"], options["workers"])
