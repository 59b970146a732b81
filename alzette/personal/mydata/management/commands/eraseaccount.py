from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from alzette.personal.accounts.models import User
from alzette.personal.mydata.services import ErasureRefused, erase_account


class Command(BaseCommand):
    help = (
        "Erase an account the way 'my data' does (retention holds, ledger entry), for "
        "operators acting on a written request. Prints the erasure receipt."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email=options["email"].strip().lower()).first()
        if user is None:
            raise CommandError("No account has this e-mail address.")
        if not options["yes"] and input(f"Erase {user.email} for good? [y/N] ").lower() != "y":
            raise CommandError("Nothing erased.")
        try:
            receipt = erase_account(user)
        except ErasureRefused as exc:
            raise CommandError(f"Erasure refused: {exc}") from exc
        self.stdout.write(json.dumps(receipt.document(), indent=2, default=str))
