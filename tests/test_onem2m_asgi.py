"""The HTTP binding's short road under ASGI: /onem2m/ is answered before Django,
concurrent requests are committed together, everything else reaches Django."""

from __future__ import annotations

import asyncio
import json

import pytest

from alzette.territory.onem2m.bindings.asgi import OneM2MApplication
from alzette.territory.onem2m.models import Resource
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)


async def call(app, method, path, body=None, headers=None, query=""):
    raw = json.dumps(body).encode() if isinstance(body, dict) else (body or b"")
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
        "scheme": "http",
    }
    sent = []
    chunks = [{"type": "http.request", "body": raw, "more_body": False}]

    async def receive():
        return chunks.pop(0)

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    start, body_message = sent
    head = {k.decode(): v.decode() for k, v in start["headers"]}
    content = body_message["body"]
    return start["status"], head, json.loads(content) if content else None


def run(coroutine):
    """asyncio.run in a thread of its own: the browser tests leave an event loop
    running in the worker's main thread, where asyncio.run refuses to start."""
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def headers(origin, ty=None, rqi="1"):
    result = {"X-M2M-Origin": origin, "X-M2M-RI": rqi, "X-M2M-RVI": "3"}
    if ty is not None:
        result["Content-Type"] = f"application/json;ty={ty}"
    return result


def test_concurrent_creations_are_answered_after_one_commit(settings):
    settings.ALZETTE_ONEM2M_DELIVERY = "worker"
    reached_django = []

    async def django_app(scope, receive, send):
        reached_django.append(scope["path"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = OneM2MApplication(django_app)

    async def scenario():
        ae = {"m2m:ae": {"rn": "meter", "api": "Nmeter", "rr": False}}
        status, head, body = await call(app, "POST", "/onem2m/alzette", ae, headers("Cm", 2))
        assert (status, head["x-m2m-rsc"]) == (201, "2001"), body
        cnt = {"m2m:cnt": {"rn": "flow"}}
        await call(app, "POST", "/onem2m/alzette/meter", cnt, headers("Cm", 3))
        posts = [
            call(
                app,
                "POST",
                "/onem2m/alzette/meter/flow",
                {"m2m:cin": {"con": str(n)}},
                headers("Cm", 4, rqi=f"r{n}"),
            )
            for n in range(20)
        ]
        bad = call(app, "POST", "/onem2m/alzette/meter/flow", {"m2m:cin": {"cs": 1}},
                   headers("Cm", 4, rqi="bad"))  # fmt: skip
        results = await asyncio.gather(*posts, bad)
        latest = await call(app, "GET", "/onem2m/alzette/meter/flow/la", None, headers("Cm"))
        other = await call(app, "GET", "/healthz", None, {})
        return results, latest, other

    results, latest, other = run(scenario())
    assert [r[0] for r in results[:20]] == [201] * 20
    assert {r[1]["x-m2m-ri"] for r in results[:20]} == {f"r{n}" for n in range(20)}
    assert (results[20][0], results[20][1]["x-m2m-rsc"]) == (400, "4000")
    assert latest[0] == 200 and latest[2]["m2m:cin"]["con"] in {str(n) for n in range(20)}
    container = Resource.objects.get(path="alzette/meter/flow")
    assert (container.cni, container.st) == (20, 20)
    assert other[0] == 204 and reached_django == ["/healthz"]


def test_too_large_body_is_a_oneM2M_error(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50

    async def django_app(scope, receive, send):
        raise AssertionError("not for Django")

    app = OneM2MApplication(django_app)
    big = {"m2m:ae": {"api": "N" + "x" * 100, "rr": False}}
    status, head, body = run(call(app, "POST", "/onem2m/alzette", big, headers("C", 2)))
    assert (status, head["x-m2m-rsc"]) == (400, "4000") and "m2m:dbg" in body


def test_a_slow_notification_target_does_not_hold_up_measurements(settings):
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    settings.ALZETTE_ONEM2M_DELIVERY = "worker"

    class Slow(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(1.5)
            self.send_response(200)
            self.send_header("X-M2M-RSC", "2000")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    app = OneM2MApplication(None)

    async def timed(coro):
        await coro
        return time.perf_counter()

    async def scenario():
        gateway = {"m2m:ae": {"rn": "gw", "api": "Ngw", "rr": True, "poa": [url]}}
        await call(app, "POST", "/onem2m/alzette", gateway, headers("Cgw", 2))
        await call(app, "POST", "/onem2m/alzette/gw", {"m2m:cnt": {"rn": "d"}}, headers("Cgw", 3))
        notify = call(app, "POST", "/onem2m/alzette/gw", {"m2m:sgn": {"sur": "/x"}},
                      {**headers("Cgw"), "Content-Type": "application/json"})  # fmt: skip
        slow = asyncio.ensure_future(timed(notify))
        await asyncio.sleep(0.2)
        start = time.perf_counter()
        await call(
            app, "POST", "/onem2m/alzette/gw/d", {"m2m:cin": {"con": "1"}}, headers("Cgw", 4)
        )
        fast = time.perf_counter() - start
        return fast, await slow - start

    try:
        fast, slow = run(scenario())
    finally:
        server.shutdown()
    assert fast < 1.0 < slow
