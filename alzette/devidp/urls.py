"""Simulator routes; mounted under /dev-idp/ outside production only.

Each provider lives under its own base URL, which is also its issuer:
``/dev-idp/franceconnect`` and ``/dev-idp/proconnect``.
"""

from django.urls import path, register_converter

from alzette.devidp import views
from alzette.devidp.providers import PROVIDERS


class ProviderConverter:
    regex = "|".join(PROVIDERS)

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ProviderConverter, "devidp_provider")

app_name = "devidp"

urlpatterns = [
    path(
        "<devidp_provider:provider>/.well-known/openid-configuration",
        views.configuration,
        name="configuration",
    ),
    path("<devidp_provider:provider>/jwks", views.jwks, name="jwks"),
    path("<devidp_provider:provider>/authorize", views.authorize, name="authorize"),
    path("<devidp_provider:provider>/token", views.token, name="token"),
    path("<devidp_provider:provider>/userinfo", views.userinfo, name="userinfo"),
    path("<devidp_provider:provider>/session/end", views.end_session, name="end_session"),
]
