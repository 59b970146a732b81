"""HTTP binding (TS-0009): oneM2M over HTTP at /onem2m/.

``/onem2m/<cse-relative>``, ``/onem2m/~/<csi>/<...>`` (SP-relative) and
``/onem2m/_/<sp-id>/<csi>/<...>`` (absolute). POST with ``;ty=N`` creates, POST
without it notifies, GET retrieves or discovers (``fu=1``), PUT updates, DELETE
deletes. Notifications go out as POST to http(s) URLs.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from alzette.core.network import reaches_only_public_addresses
from alzette.territory.onem2m import config, cse, security
from alzette.territory.onem2m.bindings.base import Binding, DeliveryError
from alzette.territory.onem2m.constants import RSC, Operation, http_status
from alzette.territory.onem2m.errors import M2MError, bad_request
from alzette.territory.onem2m.primitives import FilterCriteria, Request, Response

MEDIA_TYPES = ("application/json", "application/vnd.onem2m-res+json")
_FILTER_PARAMS = {
    "cra", "crb", "ms", "us", "exa", "exb", "sts", "stb", "sza", "szb",
    "ty", "lbl", "cty", "lim", "ofst", "lvl", "fu", "fo",
}  # fmt: skip
_REQUEST_PARAMS = {"rcn", "drt", "rt"}


class HttpBinding(Binding):
    name = "http"
    schemes = ("http", "https")

    def send(self, url: str, receiver: str, primitive: dict[str, Any]) -> int:
        _check_reachable(url)
        body = json.dumps(primitive.get("pc") or {}).encode()
        outgoing = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 - http(s) only
        outgoing.add_header("Content-Type", "application/json")
        outgoing.add_header("X-M2M-Origin", primitive["fr"])
        outgoing.add_header("X-M2M-RI", primitive["rqi"])
        outgoing.add_header("X-M2M-RVI", primitive.get("rvi", "3"))
        timeout = settings.ALZETTE_ONEM2M_NOTIFY_TIMEOUT
        try:
            with urllib.request.urlopen(outgoing, timeout=timeout) as answer:  # noqa: S310
                rsc = answer.headers.get("X-M2M-RSC")
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"HTTP {exc.code}") from None
        except (OSError, ValueError) as exc:
            raise DeliveryError(str(exc) or exc.__class__.__name__) from None
        try:
            return int(rsc) if rsc else RSC.OK
        except ValueError:
            raise DeliveryError(f"invalid X-M2M-RSC {rsc!r}") from None


def _check_reachable(url: str) -> None:
    """In production, never post into the platform's own network."""
    if not settings.ALZETTE_ONEM2M_PRIVATE_TARGETS and not reaches_only_public_addresses(url):
        raise DeliveryError(f"{urlsplit(url).hostname} does not resolve to public addresses only")


# --- Receiving -----------------------------------------------------------------


def _target(path: str) -> str:
    if not path:
        return config.cse_rn()
    if path.startswith("~/"):
        return "/" + path[2:]
    if path.startswith("_/"):
        return "//" + path[2:]
    return path


def _operation(request: HttpRequest, ty: int | None) -> Operation:
    method = request.method
    if method == "POST":
        return Operation.CREATE if ty is not None else Operation.NOTIFY
    operations = {"GET": Operation.RETRIEVE, "PUT": Operation.UPDATE, "DELETE": Operation.DELETE}
    if method not in operations:
        raise M2MError(RSC.OPERATION_NOT_ALLOWED, f"HTTP {method} is not a oneM2M operation")
    return operations[method]


def _content(request: HttpRequest) -> tuple[int | None, dict[str, Any] | None]:
    """(ty, parsed body) from Content-Type and the body."""
    header = request.headers.get("Content-Type", "")
    media, *params = [p.strip() for p in header.split(";")] if header else [""]
    ty = None
    for param in params:
        name, _, value = param.partition("=")
        if name.strip() == "ty":
            try:
                ty = int(value)
            except ValueError:
                raise bad_request(f"Content-Type: ty={value!r} is not a resource type") from None
    if request.method not in ("POST", "PUT"):
        return ty, None
    if media.lower() not in MEDIA_TYPES:
        raise M2MError(RSC.UNSUPPORTED_MEDIA_TYPE, "send application/json")
    try:
        raw = request.body
    except RequestDataTooBig:
        raise bad_request("the body is larger than this CSE accepts") from None
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object")
    return ty, body


def _query(request: HttpRequest) -> tuple[dict[str, Any], dict[str, Any]]:
    """(request parameters, filter criteria) from the query string."""
    params: dict[str, Any] = {}
    criteria: dict[str, Any] = {}
    for name in request.GET:
        values = request.GET.getlist(name)
        if name in _FILTER_PARAMS:
            if name in ("ty", "lbl", "cty"):
                criteria[name] = [v for value in values for v in value.split()]
            else:
                criteria[name] = values[-1]
        elif name in _REQUEST_PARAMS:
            params[name] = values[-1]
        else:
            raise bad_request(f"unknown query parameter {name!r}")
    return params, criteria


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"{name}: expected an integer") from None


def _credential(request: HttpRequest) -> Any:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key:
        return None
    credential = security.credential_for(key.strip())
    if credential is None:
        raise M2MError(RSC.SECURITY_ASSOCIATION_REQUIRED, "this key is unknown or revoked")
    return credential


def build_request(request: HttpRequest, path: str) -> Request:
    rqi = request.headers.get("X-M2M-RI", "")
    if not rqi:
        raise bad_request("X-M2M-RI (the request identifier) is mandatory")
    ty, body = _content(request)
    params, criteria = _query(request)
    if params.get("rt", "3") != "3":
        raise M2MError(RSC.NOT_IMPLEMENTED, "only blocking requests (rt=3) are supported")
    return Request(
        op=_operation(request, ty),
        to=_target(path),
        fr=request.headers.get("X-M2M-Origin", ""),
        rqi=rqi,
        rvi=request.headers.get("X-M2M-RVI") or None,
        ty=ty,
        pc=body,
        rcn=_int(params["rcn"], "rcn") if "rcn" in params else None,
        drt=_int(params.get("drt", 1), "drt"),
        fc=FilterCriteria.parse(criteria),
        principal=_credential(request),
        binding="http",
    )


def render(response: Response) -> HttpResponse:
    body = b"" if response.pc is None else json.dumps(response.pc).encode()
    answer = HttpResponse(body, status=http_status(response.rsc))
    answer["Content-Type"] = "application/json"
    answer["X-M2M-RSC"] = str(int(response.rsc))
    answer["X-M2M-RI"] = response.rqi
    if response.rvi:
        answer["X-M2M-RVI"] = response.rvi
    if response.location:
        answer["Content-Location"] = response.location
    if response.cnst is not None:
        answer["X-M2M-CTS"] = str(response.cnst)
        answer["X-M2M-CTO"] = str(response.cnot)
    return answer


def parse(request: HttpRequest, path: str) -> Request | Response:
    """The request primitive of an HTTP request, or the error response to send."""
    try:
        return build_request(request, path)
    except M2MError as exc:
        fallback = Request(
            op=Operation.RETRIEVE,
            to=path,
            fr=request.headers.get("X-M2M-Origin", ""),
            rqi=request.headers.get("X-M2M-RI", "") or uuid.uuid4().hex,
            rvi=request.headers.get("X-M2M-RVI") or None,
        )
        return cse.error(fallback, exc.rsc, exc.dbg)


@csrf_exempt
def endpoint(request: HttpRequest, path: str = "") -> HttpResponse:
    """The binding as a Django view (WSGI, the test client); under ASGI
    ``bindings.asgi`` answers /onem2m/ first, with the same parse and render."""
    primitive = parse(request, path)
    if isinstance(primitive, Response):
        return render(primitive)
    return render(cse.handle(primitive))
