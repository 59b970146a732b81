"""The ``alzette`` console script.

``alzette demo``, ``alzette serve`` and ``alzette check`` are the platform's
own routines; any other sub-command is passed to Django (``alzette migrate``,
``alzette shell``, ``alzette createsuperuser``...).
"""

from __future__ import annotations

import os
import sys

#: Sub-commands whose names differ from their Django management command.
ALIASES = {"check": "platformcheck", "django-check": "check"}


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script."""
    args = list(sys.argv if argv is None else argv)
    command = args[1] if len(args) > 1 else "help"
    if command == "demo":
        # The demo is its own mode (DEBUG off, console e-mail) unless told otherwise.
        os.environ.setdefault("ALZETTE_MODE", "demo")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alzette.conf.settings")
    if len(args) > 1:
        args[1] = ALIASES.get(command, command)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["alzette", *args[1:]])


if __name__ == "__main__":
    main()
