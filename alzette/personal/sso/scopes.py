"""Scopes backend: a service may ask only for the scopes its registration allows."""

from __future__ import annotations

from typing import Any

from oauth2_provider.scopes import SettingsScopes


class ServiceScopes(SettingsScopes):
    def get_available_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        from alzette.personal.sso import services

        scopes = super().get_available_scopes(application, request, *args, **kwargs)
        if application is None:
            return scopes
        allowed = set(services.allowed_scopes(application))
        return [scope for scope in scopes if scope in allowed]
