"""HTTP adapters of the partners' machine endpoints (the portal pages are elsewhere)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from alzette.territory.partners import oauth


@csrf_exempt  # a machine endpoint authenticated by the client's credentials
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    """OAuth2 token endpoint, client-credentials grant only (RFC 6749 §4.4)."""
    headers = {k: v for k, v in request.headers.items()}
    body = request.body.decode("utf-8", errors="replace")
    out_headers, out_body, status = oauth.token_response(
        request.build_absolute_uri(), "POST", body, headers
    )
    response = HttpResponse(out_body, status=status, content_type="application/json")
    for name, value in out_headers.items():
        if name.lower() != "content-type":
            response[name] = value
    response["Cache-Control"] = "no-store"  # RFC 6749 §5.1
    return response
