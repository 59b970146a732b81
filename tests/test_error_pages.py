"""Error pages speak the visitor's language and lead back; the API keeps problem+json."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.urls import path
from django.utils import translation

from alzette.conf import urls as root_urls
from alzette.web import errors
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def _broken_view(request):
    raise RuntimeError("the database fell over")


urlpatterns = [*root_urls.urlpatterns, path("broken/", _broken_view)]
handler500 = root_urls.handler500


@pytest.mark.parametrize(
    ("language", "title"),
    [("fr", "Page introuvable"), ("de", "Seite nicht gefunden"), ("en", "Page not found")],
)
def test_an_unknown_page_is_a_translated_404_with_the_site_layout(client, language, title):
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 404
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    assert f"<h1>{title}</h1>" in html
    assert 'id="main"' in html and 'href="/"' in html


def test_a_refused_page_is_a_403_without_the_exception_s_text(client, django_user_model):
    request = RequestFactory().get("/services/x/")
    request.user = django_user_model(email="x@example.org")
    with translation.override("fr"):
        response = errors.permission_denied(request, PermissionError("internal: rule 42"))

    assert response.status_code == 403
    assert "Accès refusé" in response.content.decode()
    assert "rule 42" not in response.content.decode()


def test_a_stale_form_token_gets_a_translated_page_not_django_s(citizen):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(citizen)

    response = browser.post("/dashboard/edit/reset/", HTTP_ACCEPT_LANGUAGE="fr")

    assert response.status_code == 403
    html = response.content.decode()
    assert "Le formulaire a expiré" in html
    assert "CSRF" not in html  # no jargon


def test_a_crash_shows_the_standalone_page_with_the_request_id(settings):
    settings.ROOT_URLCONF = __name__
    browser = Client(raise_request_exception=False)

    response = browser.get("/broken/", HTTP_ACCEPT_LANGUAGE="fr", HTTP_X_REQUEST_ID="req-123")

    assert response.status_code == 500
    html = response.content.decode()
    assert "Une erreur s'est produite" in html
    assert "req-123" in html
    assert "the database fell over" not in html


def test_the_api_still_answers_problem_json(client):
    response = client.get("/api/v1/no-such-endpoint", HTTP_ACCEPT_LANGUAGE="fr")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
