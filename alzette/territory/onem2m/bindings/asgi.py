"""The HTTP binding's short road under ASGI (``alzette serve``).

Devices post measurements at a steady rate; going through Django's middleware
chain and URL resolver for each costs more than the CSE's own work, and one
commit per request bounds throughput. ``OneM2MApplication`` wraps Django's ASGI
application: requests under ``/onem2m/`` are read here and handed to one
thread per process that handles what arrived together in one transaction
(``cse.handle_batch``: contentInstances for one container are written together,
each request's refusal stays its own) and answers each once it has committed.
Other oneM2M requests are handled one by one in the thread pool. Everything
else goes to Django. The Django view (``http.endpoint``) stays for
WSGI and the test client; both parse and render with the same functions.
"""

from __future__ import annotations

import asyncio
import io
import logging
import queue
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import close_old_connections, transaction
from django.http import HttpResponse

from alzette.core.repositories import TERRITORY
from alzette.territory.onem2m import cse
from alzette.territory.onem2m.bindings import http
from alzette.territory.onem2m.constants import RSC
from alzette.territory.onem2m.primitives import Request, Response

logger = logging.getLogger(__name__)

PREFIX = "/onem2m/"
BATCH = 200

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class Batcher:
    """One thread that handles submitted requests in batches."""

    def __init__(self) -> None:
        self.inbox: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, scope: Scope, body: bytes) -> Future:
        future: Future = Future()
        self.inbox.put((future, scope, body))
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="onem2m-http", daemon=True)
                self._thread.start()
        return future

    def _run(self) -> None:
        while True:
            batch = [self.inbox.get()]
            while len(batch) < BATCH:
                try:
                    batch.append(self.inbox.get_nowait())
                except queue.Empty:
                    break
            try:
                process(batch)
            except Exception as exc:  # never let the thread die with futures pending
                logger.exception("oneM2M HTTP batch failed")
                for future, _scope, _body in batch:
                    if not future.done():
                        future.set_exception(exc)


def _parse(scope: Scope, body: bytes) -> Request | Response:
    request = ASGIRequest(scope, io.BytesIO(body))
    return http.parse(request, scope["path"][len(PREFIX) :])


def process(batch: list[tuple[Future, Scope, bytes]]) -> None:
    """Parse, handle in one transaction, commit, then answer each request."""
    parsed = [(future, _parse(scope, body)) for future, scope, body in batch]
    requests = [item for _, item in parsed if isinstance(item, Request)]
    deferred: list = []
    try:
        with transaction.atomic(using=TERRITORY):
            answers = iter(cse.handle_batch(requests, deferred))
            results = [next(answers) if isinstance(i, Request) else i for _, i in parsed]
    except Exception:
        logger.exception("a batch of %d oneM2M HTTP requests failed to commit", len(batch))
        deferred = []
        results = [
            cse.error(i, RSC.INTERNAL_SERVER_ERROR, "internal server error")
            if isinstance(i, Request)
            else i
            for _, i in parsed
        ]
    finally:
        close_old_connections()
    cse.after_commit(deferred)
    for (future, _), result in zip(parsed, results, strict=True):
        future.set_result(http.render(result))


async def _read_body(receive: Receive, limit: int | None) -> bytes | None:
    """The request body, or None when it is larger than ``limit``."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b""
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _send(send: Send, response: HttpResponse) -> None:
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.items()]
    headers.append((b"content-length", str(len(response.content)).encode()))
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": response.content})


def _too_large(scope: Scope) -> HttpResponse:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    fallback = Request(op=2, to="", fr=headers.get("x-m2m-origin", ""),  # type: ignore[arg-type]
                       rqi=headers.get("x-m2m-ri", ""))  # fmt: skip
    return http.render(cse.error(fallback, RSC.BAD_REQUEST, "the body is too large"))


class OneM2MApplication:
    """ASGI application: /onem2m/ here, everything else to ``django_app``."""

    def __init__(self, django_app: Callable[..., Awaitable[None]]) -> None:
        self.django_app = django_app
        self.batcher = Batcher()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.django_app(scope, receive, send)
            return
        body = await _read_body(receive, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        if body is None:
            await _send(send, _too_large(scope))
            return
        if _is_instance_creation(scope):
            response = await asyncio.wrap_future(self.batcher.submit(scope, body))
        else:
            # Anything that may wait on the network (a subscription's verification
            # request, a forwarded notification) runs on its own, never holding
            # up the measurements' batches.
            response = await sync_to_async(handle_one, thread_sensitive=False)(scope, body)
        await _send(send, response)


def _is_instance_creation(scope: Scope) -> bool:
    if scope["method"] != "POST":
        return False
    for name, value in scope["headers"]:
        if name.lower() == b"content-type":
            params = value.decode("latin-1").replace(" ", "").split(";")[1:]
            return "ty=4" in params
    return False


def handle_one(scope: Scope, body: bytes) -> HttpResponse:
    """One request on its own (in a thread of the pool)."""
    try:
        parsed = _parse(scope, body)
        if isinstance(parsed, Request):
            parsed = cse.handle(parsed)
        return http.render(parsed)
    finally:
        close_old_connections()
