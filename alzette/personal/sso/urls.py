"""OpenID Provider routes, mounted at /o/.

DOT finds its endpoints by name in the ``oauth2_provider`` namespace (discovery,
issuer, ``iss`` parameter), so they keep DOT's names. Only what the provider
offers is mounted: no application management pages, no introspection, no
device flow, no dynamic registration (services are registered by operators).
"""

from django.urls import include, path, re_path
from oauth2_provider import views as dot

from alzette.personal.sso import views

oidc_patterns = [
    path("authorize/", views.ConsentView.as_view(), name="authorize"),
    path("token/", dot.TokenView.as_view(), name="token"),
    path("revoke_token/", dot.RevokeTokenView.as_view(), name="revoke-token"),
    path("userinfo/", views.UserinfoView.as_view(), name="user-info"),
    path("logout/", views.LogoutView.as_view(), name="rp-initiated-logout"),
    re_path(
        r"^\.well-known/openid-configuration$",
        views.DiscoveryView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    path(".well-known/jwks.json", dot.JwksInfoView.as_view(), name="jwks-info"),
    # RFC 8414 metadata: DOT derives the RFC 9207 ``iss`` response parameter from it.
    path(
        ".well-known/oauth-authorization-server",
        dot.OAuthServerMetadataView.as_view(),
        name="oauth-server-metadata",
    ),
]

page_patterns = [
    path("", views.connected_services, name="services"),
    path("<uuid:pk>/withdraw/", views.withdraw, name="withdraw"),
]

urlpatterns = [
    path("", include((oidc_patterns, "oauth2_provider"))),
    path("services/", include((page_patterns, "sso"))),
]
