from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.core.management.base import BaseCommand, CommandError, CommandParser

from alzette.ledger import services
from alzette.ledger.receipts import verify_receipt
from alzette.ledger.verify import verify


class Command(BaseCommand):
    help = "The tamper-evident ledger: verify it, print its public key, make a signing key."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("verify", help="Recompute the whole log and check every tree head.")
        check.add_argument(
            "--public-key",
            type=Path,
            help="PEM public key to trust (default: the configured key's).",
        )
        receipt = sub.add_parser("verify-receipt", help="Check a receipt (JSON file) offline.")
        receipt.add_argument("receipt", type=Path)
        receipt.add_argument(
            "--public-key",
            type=Path,
            help="PEM public key to trust (default: the configured key's).",
        )
        sub.add_parser("public-key", help="Print the PEM public key that verifies tree heads.")
        sub.add_parser("keygen", help="Print a new Ed25519 signing key (PEM) for production.")
        sub.add_parser("status", help="Print the size and latest signed tree head.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "keygen":
            key = Ed25519PrivateKey.generate()
            self.stdout.write(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ).decode()
            )
        elif action == "public-key":
            self.stdout.write(services.signing_key().public_pem())
        elif action == "status":
            head = services.latest_tree_head()
            self.stdout.write(f"size: {services.current_size()}")
            self.stdout.write(
                "latest tree head: " + (json.dumps(asdict(head), indent=2) if head else "none")
            )
        elif action == "verify-receipt":
            self._verify_receipt(options["receipt"], options["public_key"])
        else:
            self._verify(options["public_key"])

    def _verify_receipt(self, path: Path, key_file: Path | None) -> None:
        public_key = _public_key(key_file) if key_file else services.signing_key().public_key
        try:
            receipt = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read the receipt {path}: {exc}") from exc
        problems = verify_receipt(receipt, public_key)
        if problems:
            raise CommandError("The receipt does not verify: " + "; ".join(problems))
        self.stdout.write(
            self.style.SUCCESS(
                f"Receipt verified: entry {receipt['leaf_index']} is in the log signed at size "
                f"{receipt['tree_head']['tree_size']}."
            )
        )

    def _verify(self, key_file: Path | None) -> None:
        public_key = _public_key(key_file) if key_file else services.signing_key().public_key
        report = verify(public_key, progress=lambda message: self.stdout.write(f"  {message}"))
        if report.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Ledger verified: {report.entries} entries, "
                    f"{report.tree_heads} signed tree heads."
                )
            )
            return
        for finding in report.findings or []:
            self.stderr.write(str(finding))
        raise CommandError(f"Ledger verification failed: {len(report.findings or [])} finding(s).")


def _public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise CommandError(f"Cannot read the public key {path}: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise CommandError("The public key must be an Ed25519 key.")
    return key
