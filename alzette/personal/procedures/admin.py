"""Admin: procedures and their instructor groups. Files are instructed in the back
office, where the abilities and the ledger apply; the admin only lists them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from alzette.personal.procedures.models import Dossier, InstructorGroup, Procedure


class GroupInline(admin.TabularInline):
    model = InstructorGroup
    filter_horizontal = ("members",)
    extra = 0


@admin.register(Procedure)
class ProcedureAdmin(admin.ModelAdmin):
    list_display = ("slug", "unit", "published", "fee_cents", "retention_days")
    inlines = (GroupInline,)


@admin.register(Dossier)
class DossierAdmin(admin.ModelAdmin):
    """Counts and statuses only: no answers, so the admin is not a way around the groups."""

    list_display = ("reference", "procedure", "status", "commune", "submitted_at")
    list_filter = ("status", "procedure")
    fields = ("reference", "procedure", "status", "commune", "group", "submitted_at", "due_at")

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
