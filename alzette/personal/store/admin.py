"""Admin: providers (created by operators) and a read-only view of store services.

Services are written by their providers and published by moderators on the store's
own pages, where the rules (``store.authz``) and the ledger apply; the admin does
not bypass them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from alzette.personal.store.models import Provider, Service


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "kind", "unit", "organisation")
    list_filter = ("kind",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("slug", "provider", "theme", "status", "submitted_at", "moderated_at")
    list_filter = ("status", "theme", "provider__kind")
    search_fields = ("slug", "provider__name")

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False
