"""OpenID Provider routes, mounted at /o/ (with django-oauth-toolkit's)."""

urlpatterns: list = []
