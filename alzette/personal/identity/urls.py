"""Routes of the relying parties, mounted at /accounts/.

The callback paths are the redirect URIs registered at the providers (and in
the simulators): /accounts/franceconnect/callback/, /accounts/proconnect/callback/.
"""

from django.urls import path, register_converter

from alzette.personal.identity import views


class ProviderConverter:
    regex = "franceconnect|proconnect"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ProviderConverter, "idp")

urlpatterns = [
    path("<idp:slug>/login/", views.start, name="identity_start"),
    path("<idp:slug>/callback/", views.callback, name="identity_callback"),
    path("<idp:slug>/logout/", views.sign_out, name="identity_logout"),
    path("<idp:slug>/logout/callback/", views.logged_out, name="identity_logged_out"),
]
