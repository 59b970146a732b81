"""Payment pages: a thin adapter over ``payments.services``.

- ``notify``: the provider's server posts here; 200 when applied (or repeated),
  400 with a short plain-text reason otherwise.
- ``payment_return``: the payer comes back; only the payer sees it.
- ``simulator``: the demo's payment page (never in production).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from uuid import UUID

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from alzette.personal.payments import services
from alzette.personal.payments.models import Payment, Status
from alzette.personal.payments.providers.base import InvalidNotification
from alzette.personal.payments.providers.simulator import RESULTS
from alzette.personal.payments.registry import get_provider


def notification_response(provider: str, data: Mapping[str, str]) -> HttpResponse:
    """Apply a notification and answer the provider: the one path every notification
    takes, whether it came over HTTP or from the simulator's page."""
    try:
        services.apply_notification(provider, data)
    except InvalidNotification as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    return HttpResponse("OK", content_type="text/plain; charset=utf-8")


@csrf_exempt  # posted by the provider's server, which holds no CSRF token
@require_POST
def notify(request: HttpRequest, provider: str) -> HttpResponse:
    # Some services put their fields in the query string of the POST: take both.
    data = {**request.GET.dict(), **request.POST.dict()}
    return notification_response(provider, data)


def _own_payment(request: HttpRequest, pk: UUID) -> Payment:
    """The payment, if the signed-in person is its payer; 404 otherwise."""
    return get_object_or_404(Payment, pk=pk, user=request.user)


def _safe_return_url(request: HttpRequest, payment: Payment) -> str:
    allowed = url_has_allowed_host_and_scheme(
        payment.return_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return payment.return_url if allowed else reverse("home")


@csrf_exempt  # a provider may send the browser back with a POST (see below)
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def payment_return(request: HttpRequest, pk: UUID) -> HttpResponse:
    payment = _own_payment(request, pk)
    data = {**request.GET.dict(), **request.POST.dict()}
    if payment.status == Status.PENDING and data:
        # A service may send the browser back with the operation's id (PayFiP's idop):
        # it is verified exactly like a notification, so a lost or late notification
        # does not leave the payer looking at "pending". Whatever it says is checked
        # with the service, so the browser cannot make a payment up.
        with contextlib.suppress(InvalidNotification):
            services.apply_notification(payment.provider, data)
        payment.refresh_from_db()
    return render(
        request,
        "payments/return.html",
        {"payment": payment, "statuses": Status, "next_url": _safe_return_url(request, payment)},
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def simulator(request: HttpRequest, pk: UUID) -> HttpResponse:
    if settings.ALZETTE_MODE == "production":
        raise Http404
    payment = _own_payment(request, pk)
    if payment.provider != "simulator" or payment.status != Status.PENDING:
        return redirect("payments:return", pk=payment.pk)
    if request.method == "GET":
        return render(request, "payments/simulator.html", {"payment": payment})
    choice = request.POST.get("choice", "")
    if choice not in RESULTS:
        response = render(request, "payments/simulator.html", {"payment": payment})
        response.status_code = 400
        return response
    fields = get_provider(payment.provider).notification_data(payment, choice)
    # Form-encoded, then decoded like any posted notification; twice when asked, to
    # show that a repeated notification changes nothing.
    body = QueryDict(mutable=True)
    body.update(fields)
    for _ in range(2 if request.POST.get("twice") else 1):
        notification_response(payment.provider, QueryDict(body.urlencode()).dict())
    return HttpResponseRedirect(reverse("payments:return", args=[payment.pk]))
