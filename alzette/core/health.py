"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

import logging

from django.db import DatabaseError, connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from alzette.core.repositories import DATABASE_ALIASES

log = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. It checks nothing else, so a slow database
    never gets a healthy process restarted."""
    return JsonResponse({"status": "ok"})


def repository_status(alias: str) -> str:
    """'ok' when the repository's database answers a trivial query, else 'unavailable'."""
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        log.warning("Readiness: repository %s does not answer", alias, exc_info=True)
        return "unavailable"
    return "ok"


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: both repositories answer; 503 otherwise, so traffic goes elsewhere."""
    checks = {alias: repository_status(alias) for alias in DATABASE_ALIASES}
    ready = all(state == "ok" for state in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )
