"""What one request carries through the CSE while it is being handled."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from alzette.territory.onem2m.primitives import Request


@dataclass
class Context:
    request: Request
    originator: str
    now: datetime = field(default_factory=timezone.now)
    #: Notifications were written to the outbox: deliver after the commit.
    notified: bool = False
    #: contentInstances created, announced to the context layer after the commit.
    created_instances: list[Any] = field(default_factory=list)
    #: Access control policies read while handling, by ri (None: no such ACP).
    acp_cache: dict[str, Any] = field(default_factory=dict)
    #: Ledger entries to append last (kind, object, payload).
    ledger: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
