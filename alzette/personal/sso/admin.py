"""Admin: the services' single sign-on profiles. DOT's own admin manages the
applications (client id, redirect URIs, post-logout URIs) and tokens."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from alzette.personal.sso.models import Consent, RelyingParty


@admin.register(RelyingParty)
class RelyingPartyAdmin(admin.ModelAdmin):
    list_display = ("application", "sector", "allowed_scopes", "created_at")
    search_fields = ("application__name", "application__client_id", "sector")
    raw_id_fields = ("application",)


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    """Read-only: a consent is given and withdrawn by the person only."""

    list_display = ("application", "scope", "updated_at")
    list_filter = ("application",)

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False
